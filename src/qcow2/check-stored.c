/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-stored.c: the refcounts the image stores, read through the
 * refcount table exactly as the engine would look them up: an entry's
 * reserved bits are ignored, a zero entry means refcount 0, an unaligned
 * refcount block cannot be read (a check error per cluster, as in qemu). */
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "check-int.h"

uint64_t chk_refblock_get(const struct chk *c, const uint8_t *rb, uint64_t i)
{
	unsigned order = c->h.refcount_order;
	uint64_t v = 0;

	if (order < 3) {
		unsigned per_byte = 8u >> order;
		unsigned shift = (unsigned)(i % per_byte) << order;
		return (rb[i / per_byte] >> shift) & ((1u << (1u << order)) - 1);
	}
	for (unsigned b = 0, n = 1u << (order - 3); b < n; b++)
		v = v << 8 | rb[i * n + b];
	return v;
}

void chk_refblock_set(const struct chk *c, uint8_t *rb, uint64_t i, uint64_t v)
{
	unsigned order = c->h.refcount_order;

	if (order < 3) {
		unsigned per_byte = 8u >> order;
		unsigned shift = (unsigned)(i % per_byte) << order;
		unsigned mask = ((1u << (1u << order)) - 1) << shift;
		rb[i / per_byte] = (uint8_t)((rb[i / per_byte] & ~mask) | ((v << shift) & mask));
		return;
	}
	for (unsigned b = 1u << (order - 3); b > 0; b--, v >>= 8)
		rb[i * (1u << (order - 3)) + b - 1] = (uint8_t)v;
}

static uint64_t refblock_offset(const struct chk *c, uint64_t idx)
{
	return idx < c->reftable_n ? c->reftable[idx] & QCOW2_REFT_OFFSET_MASK : 0;
}

static void fill_stored(struct chk *c, uint64_t first, const uint8_t *rb, uint32_t err)
{
	uint64_t end = MIN(first + c->rb_entries, c->nstored);

	for (uint64_t k = first; k < end; k++) {
		uint64_t v = rb ? chk_refblock_get(c, rb, k - first) : 0;
		c->stored[k] = err ? err : (uint32_t)MIN(v, (uint64_t)CHK_STORED_MAX);
	}
}

static int take_refblock(struct chk *c, const uint8_t *rb, uint64_t idx, void *opaque)
{
	fill_stored(c, idx * c->rb_entries, rb, 0);
	return 0;
}

/* stored[] for clusters [0, n): unaligned blocks marked unreadable, the
 * rest read in large runs. */
int chk_stored_load(struct chk *c, uint64_t n)
{
	uint64_t nblocks = DIV_ROUND_UP(n, c->rb_entries);
	CLEANUP_FREE struct chk_table *t = calloc(MAX(nblocks, 1), sizeof *t);
	size_t nt = 0;

	free(c->stored);
	c->stored = calloc(MAX(n, 1), sizeof *c->stored);
	if (c->stored == NULL || t == NULL)
		return err_set(ENOMEM, "out of memory for %llu refcounts", (unsigned long long)n);
	c->nstored = n;
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t off = refblock_offset(c, i);
		if (off && !IS_ALIGNED(off, c->cs))
			fill_stored(c, i * c->rb_entries, NULL, CHK_STORED_ERR);
		else if (off)
			t[nt++] = (struct chk_table){ .off = off, .tag = i };
	}
	return chk_read_tables(c, t, nt, c->cs, take_refblock, NULL);
}

/* Outside [0, nstored): one refcount block at a time, kept for the next. */
static int stored_far(struct chk *c, uint64_t cluster, uint64_t *val)
{
	uint64_t idx = cluster / c->rb_entries;
	uint64_t off = refblock_offset(c, idx);

	*val = 0;
	if (off == 0)
		return 0;
	if (!IS_ALIGNED(off, c->cs))
		return err_corrupt("refcount block 0x%llx is not aligned", (unsigned long long)off);
	if (c->cached_rb == NULL && (c->cached_rb = malloc(c->cs)) == NULL)
		return err_set(ENOMEM, "out of memory");
	if (c->cached_rb_off != off) {
		c->cached_rb_off = 0;
		if (chk_read(c, c->cached_rb, c->cs, off) < 0)
			return -1;
		c->cached_rb_off = off;
	}
	*val = chk_refblock_get(c, c->cached_rb, cluster % c->rb_entries);
	return 0;
}

int chk_stored_get(struct chk *c, uint64_t cluster, uint64_t *val)
{
	if (cluster >= c->nstored)
		return stored_far(c, cluster, val);
	if (c->stored[cluster] == CHK_STORED_ERR)
		return err_corrupt("refcount block for cluster 0x%llx is not aligned",
				   (unsigned long long)cluster);
	*val = c->stored[cluster];
	return 0;
}
