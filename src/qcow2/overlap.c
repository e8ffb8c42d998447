/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlap.c: the map of metadata clusters and the overlap guard.
 *
 * Every byte on disk is hostile: an L2 entry or a refcount of zero may
 * name a cluster that holds metadata, and writing guest data there would
 * destroy the image.  The map holds every metadata cluster (header, L1
 * and refcount tables, the L2 tables and refcount blocks they name, the
 * snapshot table, the bitmap directory) as sorted disjoint cluster
 * ranges.  It is rebuilt lazily after the L1 or refcount table changed
 * (once per new table, O(n log n)); each check is a binary search.  A
 * hit means corrupt metadata: the write is refused, the image is marked
 * corrupt on disk (v3) and nothing of it is written again.  Needs
 * img->lock.
 */
#include <assert.h>
#include <stdlib.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "qcow2-int.h"

struct meta_build {
	struct qcow2_meta_range *r;
	size_t n, cap;
};

/* Add the clusters of [off, off + bytes), clamped to the host range. */
static void add(struct meta_build *b, const struct qcow2_image *img, uint64_t off,
		uint64_t bytes)
{
	if (!bytes || off >= QCOW2_MAX_HOST_OFFSET)
		return;
	bytes = MIN(bytes, QCOW2_MAX_HOST_OFFSET - off);
	assert(b->n < b->cap);
	b->r[b->n++] = (struct qcow2_meta_range){ off >> img->cbits,
						  ((off + bytes - 1) >> img->cbits) + 1 };
}

static void add_bitmap_dir(struct meta_build *b, const struct qcow2_image *img)
{
	for (int i = 0; i < img->h.nb_exts; i++) {
		const struct qcow2_ext *e = &img->h.exts[i];

		if (e->type == QCOW2_EXT_BITMAPS && e->len >= 24)
			add(b, img, be64_get(e->data + 16), be64_get(e->data + 8));
	}
}

static void add_fixed(struct meta_build *b, const struct qcow2_image *img)
{
	const struct qcow2_header *h = &img->h;

	add(b, img, 0, img->cs);
	add(b, img, h->l1_table_offset, (uint64_t)h->l1_size * 8);
	add(b, img, h->refcount_table_offset, (uint64_t)h->refcount_table_clusters << img->cbits);
	/* 40 bytes is the smallest snapshot table entry. */
	add(b, img, h->snapshots_offset, (uint64_t)h->nb_snapshots * 40);
	add_bitmap_dir(b, img);
}

static void add_tables(struct meta_build *b, const struct qcow2_image *img)
{
	for (uint64_t i = 0; i < img->h.l1_size; i++)
		add(b, img, img->l1[i] & QCOW2_L1E_OFFSET_MASK, img->cs);
	for (uint64_t i = 0; i < img->rt_entries; i++)
		add(b, img, img->reftable[i] & QCOW2_REFT_OFFSET_MASK, img->cs);
}

static int by_start(const void *a, const void *b)
{
	const struct qcow2_meta_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort and merge overlapping or touching ranges in place. */
static size_t merge(struct qcow2_meta_range *r, size_t n)
{
	size_t k = 0;

	qsort(r, n, sizeof *r, by_start);
	for (size_t i = 0; i < n; i++) {
		if (k && r[i].start <= r[k - 1].end)
			r[k - 1].end = MAX(r[k - 1].end, r[i].end);
		else
			r[k++] = r[i];
	}
	return k;
}

static int rebuild(struct qcow2_image *img)
{
	struct meta_build b = { .cap = 4 + (size_t)img->h.nb_exts + img->h.l1_size +
				       img->rt_entries };

	b.r = malloc(b.cap * sizeof *b.r);
	if (!b.r)
		return err_set(ENOMEM, "out of memory");
	add_fixed(&b, img);
	add_tables(&b, img);
	free(img->meta);
	img->meta = b.r;
	img->nmeta = merge(b.r, b.n);
	img->meta_ok = true;
	return 0;
}

/* First range ending after cluster c (nmeta if none). */
static size_t first_after(const struct qcow2_image *img, uint64_t c)
{
	size_t lo = 0, hi = img->nmeta;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (img->meta[mid].end <= c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int qcow2_meta_overlap(struct qcow2_image *img, uint64_t c, uint64_t n, bool *hit)
{
	size_t i;

	assert(n > 0);
	if (!img->meta_ok && rebuild(img) < 0)
		return -1;
	i = first_after(img, c);
	*hit = i < img->nmeta && img->meta[i].start < c + n;
	return 0;
}

int qcow2_mark_corrupt(struct qcow2_image *img)
{
	uint8_t f[8];

	img->broken = true;
	if (img->h.version < 3 || !img->rw)
		return 0;
	img->h.incompatible_features |= QCOW2_INCOMPAT_CORRUPT;
	be64_put(f, img->h.incompatible_features);
	fault_point("qcow2.mark-corrupt");
	if (qcow2_img_write(img, f, sizeof f, 72) < 0 || qcow2_io_sync(img->fd) < 0)
		return -1;
	return 0;
}

int qcow2_guard_data(struct qcow2_image *img, uint64_t host, uint64_t len)
{
	uint64_t c = host >> img->cbits, n = ((host + len - 1) >> img->cbits) - c + 1;
	bool hit;

	assert(len > 0);
	if (qcow2_meta_overlap(img, c, n, &hit) < 0)
		return -1;
	if (!hit)
		return 0;
	qcow2_mark_corrupt(img);
	return err_set(EIO, "%s: data write at host offset 0x%llx would overwrite metadata; "
		       "image marked corrupt", img->path, (unsigned long long)host);
}

static bool on(uint64_t c, uint64_t off, uint64_t bytes, unsigned cbits)
{
	return bytes && c >= off >> cbits && c <= (off + bytes - 1) >> cbits;
}

int qcow2_guard_l2(struct qcow2_image *img, uint64_t l2_off)
{
	const struct qcow2_header *h = &img->h;
	uint64_t c = l2_off >> img->cbits;

	if (c == 0 || on(c, h->l1_table_offset, (uint64_t)h->l1_size * 8, img->cbits) ||
	    on(c, h->refcount_table_offset, (uint64_t)h->refcount_table_clusters << img->cbits,
	       img->cbits)) {
		qcow2_mark_corrupt(img);
		return err_set(EIO, "%s: L2 table at 0x%llx lies on the header or a table; "
			       "image marked corrupt", img->path, (unsigned long long)l2_off);
	}
	return 0;
}
