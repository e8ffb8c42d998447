/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-compare.c: stored refcounts against counted references, cluster
 * by cluster.  Stored above counted is a leak (wasted space); stored below
 * is a corruption (a live cluster could be handed out again).  Also finds
 * the image end: one past the last cluster used or refcounted. */
#include "lq/checked.h"
#include "lq/err.h"
#include "check-int.h"

static void compare_one(struct chk *c, uint64_t k, uint64_t stored, uint64_t refs)
{
	if (stored == refs)
		return;
	if (stored == 0)
		c->rebuild = true;
	chk_warn(c, "%s cluster %llu refcount=%llu reference=%llu",
		 stored < refs ? "ERROR" : "Leaked", (unsigned long long)k,
		 (unsigned long long)stored, (unsigned long long)refs);
	if (stored < refs)
		c->res->corruptions++;
	else
		c->res->leaks++;
}

static void compare_dense(struct chk *c, uint64_t *highest)
{
	for (uint64_t k = 0; k < c->nrefs; k++) {
		uint32_t s = c->stored[k], r = c->refs[k];
		if (s == CHK_STORED_ERR) {
			c->res->check_errors++;
			continue;
		}
		if (s | r)
			*highest = k;
		compare_one(c, k, s, r);
	}
}

static void compare_far(struct chk *c, uint64_t *highest)
{
	for (size_t i = 0; i < c->nfar;) {
		uint64_t k = c->far[i], n = chk_far_count(c, k), s;
		i += n;
		if (chk_stored_get(c, k, &s) < 0) {
			c->res->check_errors++;
			continue;
		}
		*highest = MAX(*highest, k);
		compare_one(c, k, s, n);
	}
}

int chk_compare(struct chk *c)
{
	uint64_t highest = 0;

	if (c->nrefs > c->nstored && chk_stored_load(c, c->nrefs) < 0)
		return -1;
	chk_far_sort(c);
	compare_dense(c, &highest);
	compare_far(c, &highest);
	if (c->res->check_errors)
		chk_warn(c, "%llu refcounts could not be read (unaligned refcount blocks)",
			 (unsigned long long)c->res->check_errors);
	c->res->image_end_offset = (highest + 1) << c->cbits;
	return 0;
}
