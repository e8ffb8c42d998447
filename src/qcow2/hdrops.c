/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hdrops.c: changes of the header: hidden flag, backing name and format
 * (rebase -u), and growing the virtual size.
 *
 * Pending metadata is flushed first so the header never points at
 * anything not yet on disk.  Resize writes a new, larger L1 table
 * elsewhere, syncs it, then switches {l1_size, l1_table_offset} with one
 * 12-byte write; then, where the backing file is longer than the old
 * size (and would show through the grown range), it writes zero entries
 * for that range past the old end, flushed and synced; the size comes
 * last.  A crash leaves the old or the new L1 (plus a leaked cluster run
 * at worst), and the old size (the entries past it are invisible and
 * written again by the next grow) or the new size over a range that
 * already reads zeros: never the backing file's data there.
 */
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "qcow2-int.h"

static int rewrite(struct qcow2_image *img, struct qcow2_header *nh)
{
	int r = qcow2_flush_locked(img);

	if (r == 0)
		r = qcow2_header_write(img, nh);
	if (r == 0) {
		qcow2_header_free(&img->h);
		img->h = *nh;
		return 0;
	}
	qcow2_header_free(nh);
	return -1;
}

static int change_header(struct qcow2_image *img, bool hidden, const char *backing,
			 const char *fmt, bool set_backing)
{
	struct qcow2_header nh;

	if (!img->rw)
		return err_set(EROFS, "%s: image opened read-only", img->path);
	if (qcow2_header_copy(&nh, &img->h) < 0)
		return -1;
	if (!set_backing && qcow2_header_set_hidden(&nh, hidden) < 0) {
		qcow2_header_free(&nh);
		return -1;
	}
	if (set_backing) {
		snprintf(nh.backing_file, sizeof nh.backing_file, "%s", backing ? backing : "");
		snprintf(nh.backing_fmt, sizeof nh.backing_fmt, "%s", fmt && backing ? fmt : "");
	}
	return rewrite(img, &nh);
}

int qcow2_set_hidden(struct qcow2_image *img, bool hidden)
{
	int r;

	qcow2_lock_excl(img);
	r = change_header(img, hidden, NULL, NULL, false);
	qcow2_unlock(img);
	return r;
}

int qcow2_set_backing(struct qcow2_image *img, const char *backing, const char *fmt)
{
	int r;

	if (backing && strlen(backing) > QCOW2_MAX_BACKING_NAME)
		return err_set(EINVAL, "backing file name longer than 1023 bytes");
	if (fmt && *fmt && strcmp(fmt, "qcow2") && strcmp(fmt, "raw"))
		return err_set(EINVAL, "unsupported backing format '%s'", fmt);
	qcow2_lock_excl(img);
	r = change_header(img, false, backing, fmt, true);
	qcow2_unlock(img);
	return r;
}

/* --- resize --- */

static int write_l1_table(struct qcow2_image *img, const uint64_t *l1, uint64_t n, uint64_t off)
{
	uint64_t bytes = DIV_ROUND_UP(n * 8, img->cs) * img->cs;
	CLEANUP_FREE uint8_t *buf = calloc(1, bytes);

	if (!buf)
		return err_set(ENOMEM, "out of memory");
	for (uint64_t i = 0; i < n; i++)
		be64_put(buf + i * 8, l1[i]);
	fault_point("qcow2.resize.l1-new-table");
	return qcow2_img_write(img, buf, bytes, off);
}

static int switch_l1(struct qcow2_image *img, uint64_t n, uint64_t off)
{
	uint8_t b[12];

	be32_put(b, (uint32_t)n);
	be64_put(b + 4, off);
	fault_point("qcow2.resize.l1-switch");
	if (qcow2_img_write(img, b, sizeof b, 36) < 0 || qcow2_io_sync(img->fd) < 0)
		return -1;
	img->h.l1_size = (uint32_t)n;
	img->h.l1_table_offset = off;
	qcow2_meta_stale(img);
	return 0;
}

static int grow_l1(struct qcow2_image *img, uint64_t n)
{
	uint64_t clusters = DIV_ROUND_UP(n * 8, img->cs), off;
	uint64_t old = img->h.l1_table_offset;
	uint64_t old_clusters = DIV_ROUND_UP((uint64_t)img->h.l1_size * 8, img->cs);
	uint64_t *l1 = calloc(n, 8);

	if (!l1)
		return err_set(ENOMEM, "out of memory");
	memcpy(l1, img->l1, (uint64_t)img->h.l1_size * 8);
	if (qcow2_alloc_clusters(img, clusters, &off) < 0 || qcow2_flush_meta(img) < 0 ||
	    write_l1_table(img, l1, n, off) < 0 || qcow2_io_sync(img->fd) < 0 ||
	    switch_l1(img, n, off) < 0) {
		free(l1);
		return -1;
	}
	free(img->l1);
	img->l1 = l1;
	img->l1_dirty_lo = img->l1_dirty_hi = 0;
	if (old_clusters && qcow2_free_deferred(img, old >> img->cbits, old_clusters) < 0)
		return -1;
	return qcow2_flush_locked(img);
}

static int set_size(struct qcow2_image *img, uint64_t size)
{
	uint8_t b[8];

	be64_put(b, size);
	fault_point("qcow2.resize.size");
	if (qcow2_img_write(img, b, sizeof b, 24) < 0 || qcow2_io_sync(img->fd) < 0)
		return -1;
	img->h.size = size;
	return 0;
}

/* The end of the grown range [old, size) the backing file could show
 * through: up to its size (past it a chain reads zeros anyway), rounded
 * to a cluster; all of it when the backing file is named but not open. */
static uint64_t shadow_end(const struct qcow2_image *img, uint64_t size)
{
	uint64_t b;

	if (!img->h.backing_file[0])
		return 0;
	if (!img->backing)
		return size;
	b = qcow2_vsize(img->backing);
	return MIN(size, DIV_ROUND_UP(b, img->cs) * img->cs);
}

/* A last cluster cut by the old size is rewritten with zeros past the
 * old end; its guest bytes before it come from below when it is not
 * this image's, so the backing file must be open to copy them. */
static int tail_ok(struct qcow2_image *img, uint64_t old)
{
	uint64_t e, bm, host;

	if (IS_ALIGNED(old, img->cs) || img->backing)
		return 0;
	if (qcow2_l2_lookup(img, old >> img->cbits, &e, &bm) < 0)
		return -1;
	if (qcow2_l2_classify(img, e, bm, 0, &host) != QCOW2_C_UNALLOCATED)
		return 0;
	return err_set(EINVAL, "%s: growing over a backing file from a size inside a cluster "
		       "needs the backing file open", img->path);
}

/* Zero what the backing file would show in [old, size), durably, while
 * the header still says old: nothing reads there until set_size. */
static int zero_grown(struct qcow2_image *img, uint64_t old, uint64_t size)
{
	uint64_t end = shadow_end(img, size);

	if (end <= old)
		return 0;
	if (tail_ok(img, old) < 0 || qcow2_zero_grown_locked(img, old, end - old, size) < 0 ||
	    qcow2_flush_locked(img) < 0)
		return -1;
	fault_point("qcow2.resize.zeroed");
	return 0;
}

static int resize_locked(struct qcow2_image *img, uint64_t size)
{
	uint64_t need = qcow2_size_to_l1(&img->h, size);

	if (qcow2_flush_locked(img) < 0)
		return -1;
	if (need * 8 > QCOW2_MAX_L1_BYTES)
		return err_set(EINVAL, "virtual size %llu too large for this cluster size",
			       (unsigned long long)size);
	if (need > img->h.l1_size && grow_l1(img, need) < 0)
		return -1;
	if (zero_grown(img, img->h.size, size) < 0)
		return -1;
	return set_size(img, size);
}

int qcow2_resize(struct qcow2_image *img, uint64_t new_size)
{
	uint64_t size = (new_size + 511) & ~511ull;
	int r;

	if (!img->rw)
		return err_set(EROFS, "%s: image opened read-only", img->path);
	if (new_size > QCOW2_MAX_VIRTUAL_SIZE)
		return err_set(EINVAL, "virtual size %llu above the 16 TiB limit",
			       (unsigned long long)new_size);
	if (size < img->h.size)
		return err_set(EINVAL, "%s: shrinking is not supported", img->path);
	if (size == img->h.size)
		return 0;
	if (qcow2_begin_change(img) < 0)
		return -1;
	r = resize_locked(img, size);
	return qcow2_end_change(img, r);
}
