/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* flush.c: metadata write-back in crash-safe order, and header rewrites.
 *
 * The order (each arrow a fdatasync where something was written before
 * it):  guest data + refcount blocks -> refcount table -> header switch to
 * a moved table -> L2 tables -> L1 table.  Anything a table on disk points
 * at is therefore durable and refcounted before the pointer is, and a
 * crash leaves leaked clusters at worst.  Refcount decrements are applied
 * only after all of that (qcow2_flush_locked), so a cluster a durable
 * table still references is never counted free.
 */
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "qcow2-int.h"

static int write_reftable(struct qcow2_image *img)
{
	uint64_t lo = img->rt_dirty_lo, hi = img->rt_dirty_hi;
	CLEANUP_FREE uint8_t *buf = NULL;

	if (img->rt_moved) {
		lo = 0;
		hi = (uint64_t)img->h.refcount_table_clusters << img->cbits >> 3;
	}
	buf = malloc((hi - lo) * 8);
	if (!buf)
		return err_set(ENOMEM, "out of memory");
	for (uint64_t i = lo; i < hi; i++)
		be64_put(buf + (i - lo) * 8, i < img->rt_entries ? img->reftable[i] : 0);
	fault_point(img->rt_moved ? "qcow2.reftable-grow.new-table" : "qcow2.reftable-write");
	if (qcow2_img_write(img, buf, (hi - lo) * 8, img->h.refcount_table_offset + lo * 8) < 0)
		return -1;
	img->rt_dirty_lo = img->rt_dirty_hi = 0;
	return 0;
}

/* The 12 bytes {refcount_table_offset, refcount_table_clusters}. */
static int switch_reftable(struct qcow2_image *img)
{
	uint8_t b[12];

	be64_put(b, img->h.refcount_table_offset);
	be32_put(b + 8, img->h.refcount_table_clusters);
	fault_point("qcow2.reftable-grow.switch");
	if (qcow2_img_write(img, b, sizeof b, 48) < 0 || qcow2_io_sync(img->fd) < 0)
		return -1;
	img->rt_moved = false;
	return 0;
}

static int write_l1(struct qcow2_image *img)
{
	uint64_t lo = img->l1_dirty_lo, hi = img->l1_dirty_hi;
	CLEANUP_FREE uint8_t *buf = malloc((hi - lo) * 8);

	if (!buf)
		return err_set(ENOMEM, "out of memory");
	for (uint64_t i = lo; i < hi; i++)
		be64_put(buf + (i - lo) * 8, img->l1[i]);
	fault_point("qcow2.l1-write");
	if (qcow2_img_write(img, buf, (hi - lo) * 8, img->h.l1_table_offset + lo * 8) < 0)
		return -1;
	img->l1_dirty_lo = img->l1_dirty_hi = 0;
	return 0;
}

int qcow2_flush_meta(struct qcow2_image *img)
{
	bool rb = qcow2_cache_any_dirty(&img->rbc);
	bool rt = img->rt_dirty_lo < img->rt_dirty_hi || img->rt_moved;
	bool l2 = qcow2_cache_any_dirty(&img->l2c);
	bool l1 = img->l1_dirty_lo < img->l1_dirty_hi;

	/* Corruption was found: the tables in memory may be built on it. */
	if (!img->rw || img->broken || !(rb || rt || l2 || l1))
		return 0;
	if (rb && qcow2_cache_write_back(img, &img->rbc) < 0)
		return -1;
	if (rt && (qcow2_io_sync(img->fd) < 0 || write_reftable(img) < 0))
		return -1;
	if (img->rt_moved && (qcow2_io_sync(img->fd) < 0 || switch_reftable(img) < 0))
		return -1;
	if (l2 && (qcow2_io_sync(img->fd) < 0 || qcow2_cache_write_back(img, &img->l2c) < 0))
		return -1;
	if (l1 && (qcow2_io_sync(img->fd) < 0 || write_l1(img) < 0))
		return -1;
	return 0;
}

int qcow2_flush_locked(struct qcow2_image *img)
{
	if (!img->rw || img->broken)
		return 0;
	if (qcow2_flush_meta(img) < 0 || qcow2_io_sync(img->fd) < 0)
		return -1;
	if (!img->nfrees)
		return 0;
	if (qcow2_apply_frees(img) < 0 || qcow2_flush_meta(img) < 0)
		return -1;
	return qcow2_io_sync(img->fd);
}

/* Write only the byte range that differs: a flag flip is then a single
 * sector write, which the device performs atomically. */
static int write_diff(struct qcow2_image *img, const uint8_t *old, const uint8_t *neu)
{
	uint32_t lo = 0, hi = img->cs;

	while (lo < hi && old[lo] == neu[lo])
		lo++;
	while (hi > lo && old[hi - 1] == neu[hi - 1])
		hi--;
	if (lo == hi)
		return 0;
	fault_point("qcow2.header-write");
	if (qcow2_img_write(img, neu + lo, hi - lo, lo) < 0)
		return -1;
	return qcow2_io_sync(img->fd);
}

int qcow2_header_write(struct qcow2_image *img, const struct qcow2_header *nh)
{
	CLEANUP_FREE uint8_t *old = malloc(img->cs);
	CLEANUP_FREE uint8_t *neu = malloc(img->cs);

	if (!old || !neu)
		return err_set(ENOMEM, "out of memory");
	if (qcow2_header_encode(nh, neu, img->cs) < 0)
		return -1;
	if (qcow2_img_read(img, old, img->cs, 0) < 0)
		return -1;
	return write_diff(img, old, neu);
}
