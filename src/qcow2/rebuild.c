/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rebuild.c: refcounts rebuilt from the references, for images left
 * dirty with lazy refcounts.
 *
 * Every reference (header, L1, L2 tables, data, compressed byte ranges)
 * is counted in memory; a new refcount table and blocks describing
 * exactly that are written past the end of the image, synced, and the
 * header switches to them with one 12-byte write before the dirty bit
 * is cleared.  The old refcount structures simply become free space.  A
 * crash at any point leaves the old (dirty, still rebuildable) state or
 * the new one.  Images with internal snapshots never get here: they only
 * open read-only.
 */
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "qcow2-int.h"

struct counts {
	uint32_t *c;
	uint64_t n;            /* clusters inside the file */
};

static int ref(struct qcow2_image *img, struct counts *k, uint64_t off, uint64_t bytes)
{
	uint64_t first = off >> img->cbits, last;

	if (!bytes)
		return 0;
	last = (off + bytes - 1) >> img->cbits;
	if (last >= k->n)
		return err_corrupt("%s: reference to 0x%llx beyond the end of the image",
				   img->path, (unsigned long long)off);
	for (uint64_t c = first; c <= last; c++)
		if (++k->c[c] > 1)
			return err_corrupt("%s: cluster %llu referenced more than once",
					   img->path, (unsigned long long)c);
	return 0;
}

static int ref_entry(struct qcow2_image *img, struct counts *k, uint64_t e)
{
	uint64_t host;

	switch (qcow2_l2_classify(img, e, 0, 0, &host)) {
	case QCOW2_C_NORMAL:
	case QCOW2_C_ZERO_ALLOC:
		return ref(img, k, host, img->cs);
	case QCOW2_C_COMPRESSED: {
		uint64_t off = e & img->coff_mask;
		uint64_t nb = ((e >> img->csize_shift) & img->csize_mask) + 1;

		return ref(img, k, off & ~511ull, nb * 512);
	}
	case QCOW2_C_INVALID:
		return err_corrupt("%s: invalid L2 entry 0x%llx", img->path, (unsigned long long)e);
	default:
		return 0;
	}
}

static int ref_l2(struct qcow2_image *img, struct counts *k, uint64_t l2off, uint8_t *buf)
{
	if (ref(img, k, l2off, img->cs) < 0 || qcow2_img_read(img, buf, img->cs, l2off) < 0)
		return -1;
	for (uint64_t i = 0; i < img->l2_entries; i++)
		if (ref_entry(img, k, be64_get(buf + i * img->l2e_size)) < 0)
			return -1;
	return 0;
}

static int count_refs(struct qcow2_image *img, struct counts *k)
{
	CLEANUP_FREE uint8_t *buf = malloc(img->cs);

	if (!buf)
		return err_set(ENOMEM, "out of memory");
	if (ref(img, k, 0, img->cs) < 0 ||
	    ref(img, k, img->h.l1_table_offset, (uint64_t)img->h.l1_size * 8) < 0)
		return -1;
	for (uint64_t i = 0; i < img->h.l1_size; i++) {
		uint64_t e = img->l1[i], off = e & QCOW2_L1E_OFFSET_MASK;

		if ((e & QCOW2_L1E_RESERVED_MASK) || !IS_ALIGNED(off, img->cs))
			return err_corrupt("%s: L1 entry %llu invalid", img->path,
					   (unsigned long long)i);
		if (off && ref_l2(img, k, off, buf) < 0)
			return -1;
	}
	return 0;
}

/* Table and blocks at cluster p covering p plus themselves. */
static void plan_new(struct qcow2_image *img, uint64_t p, uint64_t *tcl, uint64_t *blocks)
{
	uint64_t t = 1, b = 1, e = img->rb_entries;

	for (;;) {
		uint64_t nb = DIV_ROUND_UP(p + t + b, e), nt = DIV_ROUND_UP(nb * 8, img->cs);

		if (nb == b && nt == t)
			break;
		b = nb;
		t = nt;
	}
	*tcl = t;
	*blocks = b;
}

static int write_blocks(struct qcow2_image *img, const struct counts *k, uint64_t p,
			uint64_t tcl, uint64_t blocks)
{
	CLEANUP_FREE uint8_t *b = malloc(img->cs);
	CLEANUP_FREE uint8_t *t = calloc(tcl, img->cs);
	uint64_t e = img->rb_entries, end = p + tcl + blocks;

	if (!b || !t)
		return err_set(ENOMEM, "out of memory");
	for (uint64_t i = 0; i < blocks; i++) {
		memset(b, 0, img->cs);
		for (uint64_t j = 0; j < e && i * e + j < end; j++) {
			uint64_t c = i * e + j;

			qcow2_rc_put_bits(b, j, img->rc_order, c < k->n ? k->c[c] : c >= p);
		}
		be64_put(t + i * 8, (p + tcl + i) << img->cbits);
		fault_point("qcow2.rebuild.block");
		if (qcow2_img_write(img, b, img->cs, (p + tcl + i) << img->cbits) < 0)
			return -1;
	}
	fault_point("qcow2.rebuild.table");
	return qcow2_img_write(img, t, tcl << img->cbits, p << img->cbits);
}

static int switch_to(struct qcow2_image *img, uint64_t p, uint64_t tcl)
{
	uint8_t b[12], f[8];
	uint64_t inc = img->h.incompatible_features & ~QCOW2_INCOMPAT_DIRTY;

	be64_put(b, p << img->cbits);
	be32_put(b + 8, (uint32_t)tcl);
	be64_put(f, inc);
	if (qcow2_io_sync(img->fd) < 0)
		return -1;
	fault_point("qcow2.rebuild.switch");
	if (qcow2_img_write(img, b, 12, 48) < 0 || qcow2_io_sync(img->fd) < 0)
		return -1;
	fault_point("qcow2.rebuild.clear-dirty");
	if (qcow2_img_write(img, f, 8, 72) < 0 || qcow2_io_sync(img->fd) < 0)
		return -1;
	img->h.refcount_table_offset = p << img->cbits;
	img->h.refcount_table_clusters = (uint32_t)tcl;
	img->h.incompatible_features = inc;
	qcow2_meta_stale(img);
	return 0;
}

static int reload(struct qcow2_image *img)
{
	uint32_t size = img->rbc.size;
	int n = img->rbc.n;

	free(img->reftable);
	img->reftable = NULL;
	qcow2_cache_free(&img->rbc);
	if (qcow2_cache_init(&img->rbc, n, size) < 0)
		return -1;
	img->free_hint = 0;
	img->rt_dirty_lo = img->rt_dirty_hi = 0;
	qcow2_meta_stale(img);
	return qcow2_refcount_load(img);
}

int qcow2_refcount_rebuild(struct qcow2_image *img)
{
	struct counts k = { 0 };
	uint64_t tcl, blocks;
	int r = -1;

	k.n = DIV_ROUND_UP(qcow2_io_size(img->fd), img->cs);
	k.c = calloc(k.n + 1, sizeof *k.c);
	if (!k.c)
		return err_set(ENOMEM, "out of memory rebuilding refcounts");
	if (count_refs(img, &k) < 0)
		goto out;
	plan_new(img, k.n, &tcl, &blocks);
	if (tcl << img->cbits > QCOW2_MAX_REFTABLE_BYTES) {
		err_set(ENOSPC, "%s: rebuilt refcount table too large", img->path);
		goto out;
	}
	if (write_blocks(img, &k, k.n, tcl, blocks) < 0 || switch_to(img, k.n, tcl) < 0 ||
	    reload(img) < 0)
		goto out;
	img->need_rebuild = false;
	r = 0;
out:
	free(k.c);
	return r;
}
