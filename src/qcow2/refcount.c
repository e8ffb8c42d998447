/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* refcount.c: refcount blocks, cluster allocation and deferred frees.
 *
 * The refcount table lives in memory (img->reftable, at most 8 MiB); the
 * blocks go through the refcount cache.  A missing block is created on
 * first use inside the range it describes (so it counts itself), and a
 * table that is too small is replaced by a larger one built past the end
 * of everything the old table covers, with its own new blocks; the header
 * switches to it at the next flush (flush.c keeps the order: blocks,
 * table, header, then anything that points at the new clusters).
 * Allocation is first fit from a hint; runs of half a block range or
 * more go past the end of the image, behind the blocks they need.
 *
 * Frees only queue a decrement (img->frees); qcow2_apply_frees runs after
 * the L2/L1 tables that dropped the references are durable.  A cluster is
 * therefore never reused while a table on disk may still point at it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

uint64_t qcow2_rc_get_bits(const uint8_t *block, uint64_t idx, unsigned order)
{
	unsigned bits = 1u << order;
	uint64_t v = 0;

	if (order < 3) {
		unsigned shift = (unsigned)(idx & ((8u >> order) - 1)) << order;

		return (block[idx >> (3 - order)] >> shift) & ((1u << bits) - 1);
	}
	for (unsigned i = 0; i < bits / 8; i++)
		v = v << 8 | block[idx * (bits / 8) + i];
	return v;
}

void qcow2_rc_put_bits(uint8_t *block, uint64_t idx, unsigned order, uint64_t v)
{
	unsigned bits = 1u << order;

	if (order < 3) {
		unsigned shift = (unsigned)(idx & ((8u >> order) - 1)) << order;
		uint8_t mask = (uint8_t)(((1u << bits) - 1) << shift);
		uint8_t *p = &block[idx >> (3 - order)];

		*p = (uint8_t)((*p & ~mask) | ((v << shift) & mask));
		return;
	}
	for (unsigned i = bits / 8; i-- > 0; v >>= 8)
		block[idx * (bits / 8) + i] = (uint8_t)v;
}

/* Offset of the refcount block of table index t, 0 if none. */
static int block_of(struct qcow2_image *img, uint64_t t, uint64_t *off)
{
	uint64_t e = t < img->rt_entries ? img->reftable[t] : 0;

	*off = e & QCOW2_REFT_OFFSET_MASK;
	if ((e & QCOW2_REFT_RESERVED_MASK) || !IS_ALIGNED(*off, img->cs) ||
	    (e && *off == 0) || *off >= QCOW2_MAX_HOST_OFFSET)
		return qcow2_err_corrupt(img, "refcount table entry %llu invalid (0x%llx)",
				   (unsigned long long)t, (unsigned long long)e);
	return 0;
}

int qcow2_refcount_get(struct qcow2_image *img, uint64_t cluster, uint64_t *rc)
{
	uint64_t boff;
	uint8_t *b;

	*rc = 0;
	if (block_of(img, cluster / img->rb_entries, &boff) < 0)
		return -1;
	if (!boff)
		return 0;
	if (qcow2_cache_get(img, &img->rbc, boff, false, &b) < 0)
		return -1;
	*rc = qcow2_rc_get_bits(b, cluster % img->rb_entries, img->rc_order);
	return 0;
}

static void rt_dirty(struct qcow2_image *img, uint64_t t)
{
	qcow2_meta_stale(img);
	qcow2_dirty_widen(&img->rt_dirty_lo, &img->rt_dirty_hi, t);
}

/* A new, empty refcount block for table index t at cluster at. */
static int install_block(struct qcow2_image *img, uint64_t t, uint64_t at)
{
	uint8_t *b;

	if (qcow2_cache_get(img, &img->rbc, at << img->cbits, true, &b) < 0)
		return -1;
	img->reftable[t] = at << img->cbits;
	rt_dirty(img, t);
	return 0;
}

int qcow2_refcount_set(struct qcow2_image *img, uint64_t cluster, uint64_t rc)
{
	uint64_t t = cluster / img->rb_entries, boff;
	uint8_t *b;

	if (rc > img->rc_max)
		return err_set(ENOSPC, "refcount of cluster %llu would overflow",
			       (unsigned long long)cluster);
	/* Callers set refcounts only where blocks exist (allocation makes
	 * them first; a free follows a non-zero refcount read). */
	assert(t < img->rt_entries);
	if (block_of(img, t, &boff) < 0)
		return -1;
	if (!boff) {
		assert(rc == 0);
		return 0;
	}
	if (qcow2_cache_get(img, &img->rbc, boff, false, &b) < 0)
		return -1;
	qcow2_rc_put_bits(b, cluster % img->rb_entries, img->rc_order, rc);
	qcow2_cache_set_dirty(&img->rbc, boff);
	return 0;
}

/* --- growing the refcount table --- */

/* New blocks for table indices old.. and the new table are placed at
 * cluster p = old * rb_entries, past everything the old table covers. */
static int grow_table(struct qcow2_image *img, uint64_t need)
{
	uint64_t old = img->rt_entries, per = img->cs / 8, e = img->rb_entries;
	uint64_t n = MAX(need + need / 2, old + per), blocks = 1, tcl, p = old * e;
	uint64_t *t;

	n = (n + per - 1) / per * per;
	tcl = n / per;
	while (blocks * e < blocks + tcl)
		blocks++;
	if (tcl << img->cbits > QCOW2_MAX_REFTABLE_BYTES || old + blocks > n)
		return err_set(ENOSPC, "refcount table would exceed its size limit");
	t = realloc(img->reftable, n * 8);
	if (!t)
		return err_set(ENOMEM, "out of memory");
	memset(t + old, 0, (n - old) * 8);
	img->reftable = t;
	img->rt_entries = n;
	for (uint64_t i = 0; i < blocks; i++)
		if (install_block(img, old + i, p + i) < 0)
			return -1;
	for (uint64_t c = p; c < p + blocks + tcl; c++)
		if (qcow2_refcount_set(img, c, 1) < 0)
			return -1;
	if (qcow2_free_deferred(img, img->h.refcount_table_offset >> img->cbits,
				img->h.refcount_table_clusters) < 0)
		return -1;
	img->h.refcount_table_offset = (p + blocks) << img->cbits;
	img->h.refcount_table_clusters = (uint32_t)tcl;
	img->rt_moved = true;
	qcow2_meta_stale(img);
	img->rt_dirty_lo = 0;
	img->rt_dirty_hi = n;
	img->free_hint = p + blocks + tcl;
	img->alloc_end = MAX(img->alloc_end, p + blocks + tcl);
	return 0;
}

/* --- allocation --- */

static int check_overlap(struct qcow2_image *img, uint64_t c, uint64_t n);
static uint64_t free_end(struct qcow2_image *img);

/* First run of n clusters with refcount 0 at or after from.  Past the
 * end of the file and of this session's allocations every cluster must
 * be free: a refcount there is corruption, and refusing it bounds the
 * scan by the file size whatever the refcount blocks say. */
static int find_free(struct qcow2_image *img, uint64_t from, uint64_t n, uint64_t *start)
{
	uint64_t c = from, run = 0, rc;
	uint64_t end = free_end(img);

	while (run < n) {
		uint64_t t = (c + run) / img->rb_entries, boff;

		if (block_of(img, t, &boff) < 0)
			return -1;
		if (!boff) { /* a whole block range of free clusters */
			run = MIN(n, (t + 1) * img->rb_entries - c);
			continue;
		}
		if (qcow2_refcount_get(img, c + run, &rc) < 0)
			return -1;
		if (rc && c + run >= end)
			return qcow2_err_corrupt(img, "%s: refcount of cluster %llu past the end of the image",
					   img->path, (unsigned long long)(c + run));
		if (rc) {
			c += run + 1;
			run = 0;
		} else {
			run++;
		}
	}
	*start = c;
	return 0;
}

/* Make sure every cluster of [c, c+n) has a refcount block; returns 1
 * when something was set up (the run may have changed: search again). */
static int ensure_blocks(struct qcow2_image *img, uint64_t c, uint64_t n)
{
	uint64_t last = (c + n - 1) / img->rb_entries;

	if (last >= img->rt_entries)
		return grow_table(img, last + 1) < 0 ? -1 : 1;
	for (uint64_t t = c / img->rb_entries; t <= last; t++) {
		uint64_t boff, at = MAX(c, t * img->rb_entries);

		if (block_of(img, t, &boff) < 0)
			return -1;
		if (boff)
			continue;
		if (check_overlap(img, at, 1) < 0 || install_block(img, t, at) < 0 ||
		    qcow2_refcount_set(img, at, 1) < 0)
			return -1;
		img->alloc_end = MAX(img->alloc_end, at + 1);
		return 1;
	}
	return 0;
}

/* Free clusters (by their refcount) that hold metadata mean the
 * refcounts are corrupt: allocating there would overwrite live tables. */
static int check_overlap(struct qcow2_image *img, uint64_t c, uint64_t n)
{
	bool hit;

	if (qcow2_meta_overlap(img, c, n, &hit) < 0)
		return -1;
	if (!hit)
		return 0;
	return qcow2_err_corrupt(img, "%s: refcounts say live metadata at cluster %llu is free; "
			   "image marked corrupt", img->path, (unsigned long long)c);
}

/* Past the file and everything allocated since open, all is free. */
static uint64_t free_end(struct qcow2_image *img)
{
	return MAX(DIV_ROUND_UP(qcow2_io_size(img->fd), img->cs), img->alloc_end);
}

static uint64_t missing_blocks(struct qcow2_image *img, uint64_t t0, uint64_t t1)
{
	uint64_t k = 0;

	for (uint64_t t = t0; t <= t1; t++)
		k += t >= img->rt_entries || !(img->reftable[t] & QCOW2_REFT_OFFSET_MASK);
	return k;
}

/* A run of n past the end, preceded by the refcount blocks it and they
 * need.  Used for runs too long to fit between self-describing blocks
 * (a block is placed inside the range it describes, so a first-fit run
 * can never span a whole block range that has none yet). */
static int alloc_at_end(struct qcow2_image *img, uint64_t n, uint64_t *start)
{
	uint64_t s, k, last, j = 0, e = img->rb_entries;

	for (;;) {
		s = free_end(img);
		for (k = 0;;) {
			uint64_t nk;

			last = (s + k + n - 1) / e;
			nk = missing_blocks(img, s / e, last);
			if (nk == k)
				break;
			k = nk;
		}
		if (last < img->rt_entries)
			break;
		if (grow_table(img, last + 1) < 0)
			return -1;
	}
	for (uint64_t t = s / e; t <= last; t++)
		if (!(img->reftable[t] & QCOW2_REFT_OFFSET_MASK) && install_block(img, t, s + j++) < 0)
			return -1;
	for (uint64_t c = s; c < s + k; c++)
		if (qcow2_refcount_set(img, c, 1) < 0)
			return -1;
	img->alloc_end = s + k + n;
	*start = s + k;
	return 0;
}

/* First fit from the hint; 1 when it gave up (use alloc_at_end). */
static int first_fit(struct qcow2_image *img, uint64_t n, uint64_t *start)
{
	int r = 1;

	for (int tries = 0; r > 0 && tries < 8; tries++) {
		if (find_free(img, img->free_hint, n, start) < 0)
			return -1;
		r = ensure_blocks(img, *start, n);
		if (r < 0)
			return -1;
	}
	return r;
}

int qcow2_alloc_clusters(struct qcow2_image *img, uint64_t n, uint64_t *host_off)
{
	uint64_t c = 0;
	int r = 1;

	assert(!img->need_rebuild); /* qcow2_begin_change rebuilds first */
	if (n < img->rb_entries / 2 && (r = first_fit(img, n, &c)) < 0)
		return -1;
	if (r > 0 && alloc_at_end(img, n, &c) < 0)
		return -1;
	if ((c + n) >> (56 - img->cbits))
		return err_set(ENOSPC, "image would exceed the largest host offset");
	if (check_overlap(img, c, n) < 0)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		if (qcow2_refcount_set(img, c + i, 1) < 0)
			return -1;
	if (r == 0)
		img->free_hint = c + n;
	img->alloc_end = MAX(img->alloc_end, c + n);
	*host_off = c << img->cbits;
	return 0;
}

/* --- deferred frees --- */

int qcow2_free_deferred(struct qcow2_image *img, uint64_t cluster, uint64_t n)
{
	struct qcow2_run *last = img->nfrees ? &img->frees[img->nfrees - 1] : NULL;

	if (n == 0)
		return 0;
	if (last && last->start + last->n == cluster) {
		last->n += n;
		return 0;
	}
	if (img->nfrees == img->frees_cap) {
		size_t cap = img->frees_cap ? img->frees_cap * 2 : 64;
		struct qcow2_run *f = realloc(img->frees, cap * sizeof *f);

		if (!f)
			return err_set(ENOMEM, "out of memory");
		img->frees = f;
		img->frees_cap = cap;
	}
	img->frees[img->nfrees++] = (struct qcow2_run){ cluster, n };
	return 0;
}

/* Freed clusters may hold cached tables: forget them before reuse. */
static void forget_tables(struct qcow2_image *img, uint64_t cluster)
{
	qcow2_cache_drop(&img->l2c, cluster << img->cbits);
}

int qcow2_free_l2_entry(struct qcow2_image *img, uint64_t entry)
{
	uint64_t host, first, last, len;

	if (entry & QCOW2_OFLAG_COMPRESSED) {
		host = entry & img->coff_mask;
		len = (((entry >> img->csize_shift) & img->csize_mask) + 1) * 512;
		first = (host & ~511ull) >> img->cbits;
		last = ((host & ~511ull) + len - 1) >> img->cbits;
		return qcow2_free_deferred(img, first, last - first + 1);
	}
	host = entry & QCOW2_L2E_OFFSET_MASK;
	if (!host)
		return 0;
	return qcow2_free_deferred(img, host >> img->cbits, 1);
}

static int apply_one(struct qcow2_image *img, uint64_t c)
{
	uint64_t rc;

	if (qcow2_refcount_get(img, c, &rc) < 0)
		return -1;
	if (rc == 0)
		return qcow2_err_corrupt(img, "freeing cluster %llu whose refcount is already 0",
				   (unsigned long long)c);
	if (rc == 1) {
		forget_tables(img, c);
		img->free_hint = MIN(img->free_hint, c);
	}
	return qcow2_refcount_set(img, c, rc - 1);
}

int qcow2_apply_frees(struct qcow2_image *img)
{
	for (size_t i = 0; i < img->nfrees; i++)
		for (uint64_t c = 0; c < img->frees[i].n; c++)
			if (apply_one(img, img->frees[i].start + c) < 0)
				return -1;
	img->nfrees = 0;
	return 0;
}

/* --- loading and queries --- */

int qcow2_refcount_load(struct qcow2_image *img)
{
	uint64_t bytes = (uint64_t)img->h.refcount_table_clusters << img->cbits;
	uint8_t *raw = malloc(bytes);

	img->rc_order = img->h.refcount_order;
	img->rb_entries = (uint64_t)img->cs * 8 >> img->rc_order;
	img->rc_max = img->rc_order == 6 ? UINT64_MAX : (1ull << (1u << img->rc_order)) - 1;
	img->rt_entries = bytes / 8;
	img->reftable = malloc(bytes);
	if (!raw || !img->reftable) {
		free(raw);
		return err_set(ENOMEM, "out of memory");
	}
	if (qcow2_img_read(img, raw, bytes, img->h.refcount_table_offset) < 0) {
		free(raw);
		return -1;
	}
	for (uint64_t i = 0; i < img->rt_entries; i++)
		img->reftable[i] = be64_get(raw + i * 8);
	free(raw);
	return 0;
}

static int block_end(struct qcow2_image *img, uint64_t t, uint64_t boff, uint64_t *end)
{
	uint8_t *b;

	if (qcow2_cache_get(img, &img->rbc, boff, false, &b) < 0)
		return -1;
	for (uint64_t i = img->rb_entries; i-- > 0;)
		if (qcow2_rc_get_bits(b, i, img->rc_order)) {
			*end = t * img->rb_entries + i + 1;
			return 1;
		}
	return 0;
}

int qcow2_refcount_end(struct qcow2_image *img, uint64_t *end)
{
	*end = 0;
	for (uint64_t t = img->rt_entries; t-- > 0;) {
		uint64_t boff;
		int r;

		if (block_of(img, t, &boff) < 0)
			return -1;
		if (!boff)
			continue;
		r = block_end(img, t, boff, end);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	return 0;
}
