/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-refs.c: the in-memory count of references to each host cluster,
 * built while walking every structure of the image.  Like qemu's, the
 * count covers the file and grows when a reference points past its end;
 * unlike qemu's, growth stops after a slack and hostile far offsets go
 * to a list instead of a terabyte array. */
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "check-int.h"

/* How far past the end of the file the dense array may grow: as far again
 * as the file, and at least this many clusters. */
#define CHK_DENSE_SLACK (UINT64_C(1) << 16)
/* qemu refuses to check files of more clusters than this. */
#define CHK_MAX_CLUSTERS UINT64_C(0x7fffffff)

int chk_refs_init(struct chk *c)
{
	uint64_t n = DIV_ROUND_UP(c->file_size, c->cs);

	if (n > CHK_MAX_CLUSTERS)
		return err_set(EFBIG, "image file too large to check (%llu clusters)",
			       (unsigned long long)n);
	c->refs = calloc(MAX(n, 1), sizeof *c->refs);
	if (c->refs == NULL)
		return err_set(ENOMEM, "out of memory for %llu refcounts", (unsigned long long)n);
	c->nrefs = n;
	c->refs_cap = MAX(n, 1);
	c->dense_limit = n + MAX(n, CHK_DENSE_SLACK);
	return 0;
}

static int refs_grow(struct chk *c, uint64_t n)
{
	if (n > c->refs_cap) {
		uint64_t cap = MIN(MAX(n, c->refs_cap * 2), c->dense_limit);
		uint32_t *p = realloc(c->refs, cap * sizeof *p);
		if (p == NULL)
			return err_set(ENOMEM, "out of memory for %llu refcounts",
				       (unsigned long long)cap);
		memset(p + c->refs_cap, 0, (cap - c->refs_cap) * sizeof *p);
		c->refs = p;
		c->refs_cap = cap;
	}
	c->nrefs = n;
	return 0;
}

static int far_add(struct chk *c, uint64_t k)
{
	if (c->nfar == c->far_cap) {
		size_t cap = c->far_cap ? c->far_cap * 2 : 64;
		uint64_t *p = realloc(c->far, cap * sizeof *p);
		if (p == NULL)
			return err_set(ENOMEM, "out of memory for references");
		c->far = p;
		c->far_cap = cap;
	}
	c->far[c->nfar++] = k;
	return 0;
}

static int ref_cluster(struct chk *c, uint64_t k)
{
	if (k >= c->dense_limit)
		return far_add(c, k);
	if (k >= c->nrefs && refs_grow(c, k + 1) < 0)
		return -1;
	if (c->refs[k] >= c->refcount_max || c->refs[k] == CHK_STORED_MAX) {
		chk_warn(c, "refcount overflow for cluster at 0x%llx",
			 (unsigned long long)(k << c->cbits));
		c->res->corruptions++;
		return 0;
	}
	c->refs[k]++;
	return 0;
}

int chk_ref_range(struct chk *c, uint64_t off, uint64_t len)
{
	uint64_t last;

	if (len == 0)
		return 0;
	if (ADD_OVERFLOW(off, len - 1, &last))
		return err_set(EIO, "reference at 0x%llx overflows", (unsigned long long)off);
	for (uint64_t k = off >> c->cbits; k <= last >> c->cbits; k++)
		if (ref_cluster(c, k) < 0)
			return -1;
	return 0;
}

uint64_t chk_refs_get(const struct chk *c, uint64_t cluster)
{
	return cluster < c->nrefs ? c->refs[cluster] : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void chk_far_sort(struct chk *c)
{
	if (c->nfar)
		qsort(c->far, c->nfar, sizeof *c->far, cmp_u64);
}

/* The far list is sorted: count the run equal to cluster. */
uint64_t chk_far_count(const struct chk *c, uint64_t cluster)
{
	size_t lo = 0, hi = c->nfar, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->far[mid] < cluster)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < c->nfar && c->far[lo + n] == cluster)
		n++;
	return n;
}
