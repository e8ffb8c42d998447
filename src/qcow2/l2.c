/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* l2.c: guest cluster -> L2 entry, entry classification, and L2 tables
 * this image may modify.
 *
 * Every L1 entry and L2 descriptor is checked when it is used: reserved
 * bits, alignment and the header cluster are refused as corruption, so a
 * hostile table can at worst make a request fail.
 */
#include <string.h>
#include <sys/mman.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

static enum qcow2_ctype classify_std(const struct qcow2_image *img, uint64_t e, uint64_t *host)
{
	uint64_t off = e & QCOW2_L2E_OFFSET_MASK;

	*host = off;
	if (e & QCOW2_OFLAG_COMPRESSED)
		return e & QCOW2_OFLAG_COPIED ? QCOW2_C_INVALID : QCOW2_C_COMPRESSED;
	if (e & QCOW2_L2E_STD_RESERVED_MASK || !IS_ALIGNED(off, img->cs))
		return QCOW2_C_INVALID;
	if (e & QCOW2_OFLAG_ZERO)
		return off ? QCOW2_C_ZERO_ALLOC : QCOW2_C_ZERO_PLAIN;
	return off ? QCOW2_C_NORMAL : QCOW2_C_UNALLOCATED;
}

/* Extended L2: bitmap bits 0-31 say "allocated", 32-63 "reads zeros". */
static enum qcow2_ctype classify_sub(const struct qcow2_image *img, uint64_t e,
				     uint64_t bitmap, unsigned sc, uint64_t *host)
{
	uint64_t off = e & QCOW2_L2E_OFFSET_MASK;
	bool alloc = bitmap >> sc & 1, zero = bitmap >> (32 + sc) & 1;

	*host = off ? off + ((uint64_t)sc << (img->cbits - 5)) : 0;
	if (e & QCOW2_OFLAG_COMPRESSED)
		return e & QCOW2_OFLAG_COPIED ? QCOW2_C_INVALID : QCOW2_C_COMPRESSED;
	if ((e & QCOW2_L2E_STD_RESERVED_MASK) || !IS_ALIGNED(off, img->cs) || (alloc && zero))
		return QCOW2_C_INVALID;
	if (zero)
		return off ? QCOW2_C_ZERO_ALLOC : QCOW2_C_ZERO_PLAIN;
	if (alloc)
		return off ? QCOW2_C_NORMAL : QCOW2_C_INVALID;
	return QCOW2_C_UNALLOCATED;
}

enum qcow2_ctype qcow2_l2_classify(const struct qcow2_image *img, uint64_t entry,
				   uint64_t bitmap, unsigned sc, uint64_t *host)
{
	if (img->extl2)
		return classify_sub(img, entry, bitmap, sc, host);
	return classify_std(img, entry, host);
}

int qcow2_l1_offset(struct qcow2_image *img, uint64_t l1i, uint64_t *off)
{
	uint64_t e = l1i < img->h.l1_size ? img->l1[l1i] : 0;

	*off = e & QCOW2_L1E_OFFSET_MASK;
	if ((e & QCOW2_L1E_RESERVED_MASK) || !IS_ALIGNED(*off, img->cs))
		return qcow2_err_corrupt(img, "L1 entry %llu invalid (0x%llx)", (unsigned long long)l1i,
				   (unsigned long long)e);
	return 0;
}

int qcow2_l2_table(struct qcow2_image *img, uint64_t l1i, uint8_t **tbl)
{
	uint64_t off;

	*tbl = NULL;
	if (qcow2_l1_offset(img, l1i, &off) < 0)
		return -1;
	if (!off)
		return 0;
	return qcow2_cache_get(img, &img->l2c, off, false, tbl);
}

void qcow2_scan_unmap(struct qcow2_image *img)
{
	if (img->scan_map)
		munmap((void *)img->scan_map, img->scan_len);
	img->scan_map = NULL;
	img->scan_len = 0;
}

/* Map the file so that [0, need) is inside the mapping; false when it
 * cannot be (past the end of the file, or mmap refused).  Images only
 * grow while open, so a mapping is redone only to cover new tables.  A
 * file cut short under a mapping would fault on access instead of
 * reading zeros: so a mapping lives only for the length of one
 * whole-image query (allocated bytes, bitmap, a batch of map_chain). */
static bool scan_view(struct qcow2_image *img, uint64_t need)
{
	uint64_t size;
	void *p;

	if (need <= img->scan_len)
		return true;
	if (img->scan_unmappable)
		return false;
	size = qcow2_io_size(img->fd);
	if (size < need || size != (size_t)size)
		return false;
	qcow2_scan_unmap(img);
	p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, img->fd, 0);
	if (p == MAP_FAILED) {
		img->scan_unmappable = true;
		return false;
	}
	img->scan_map = p;
	img->scan_len = size;
	return true;
}

int qcow2_l2_table_scan(struct qcow2_image *img, uint64_t l1i, const uint8_t **tbl)
{
	uint64_t off;
	uint8_t *t;

	*tbl = NULL;
	if (qcow2_l1_offset(img, l1i, &off) < 0)
		return -1;
	if (!off)
		return 0;
	*tbl = qcow2_cache_peek(&img->l2c, off);
	if (*tbl)
		return 0;
	if (scan_view(img, off + img->cs)) {
		*tbl = img->scan_map + off;
		return 0;
	}
	if (qcow2_cache_get(img, &img->l2c, off, false, &t) < 0)
		return -1;
	*tbl = t;
	return 0;
}

int qcow2_l2_lookup(struct qcow2_image *img, uint64_t vc, uint64_t *entry, uint64_t *bitmap)
{
	uint8_t *t;
	uint64_t i = vc & (img->l2_entries - 1);

	*entry = *bitmap = 0;
	if (qcow2_l2_table(img, vc >> img->l2_bits, &t) < 0)
		return -1;
	if (t) {
		*entry = qcow2_l2_get(img, t, i);
		*bitmap = qcow2_l2_bitmap(img, t, i);
	}
	return 0;
}

static void l1_dirty(struct qcow2_image *img, uint64_t l1i)
{
	qcow2_meta_stale(img);
	qcow2_dirty_widen(&img->l1_dirty_lo, &img->l1_dirty_hi, l1i);
}

/* A shared L2 table (refcount > 1) is copied: the copy references every
 * cluster the original does, so their refcounts rise by one. */
static int l2_unshare(struct qcow2_image *img, uint64_t l1i, uint64_t old, uint8_t **tbl)
{
	uint64_t rc;

	if (qcow2_refcount_get(img, old >> img->cbits, &rc) < 0)
		return -1;
	if (rc == 1) {
		img->l1[l1i] = old | QCOW2_OFLAG_COPIED;
		l1_dirty(img, l1i);
		return qcow2_cache_get(img, &img->l2c, old, false, tbl);
	}
	if (rc == 0)
		return qcow2_err_corrupt(img, "L2 table at 0x%llx has refcount 0", (unsigned long long)old);
	return err_set(ENOTSUP, "writing to an L2 table shared with an internal snapshot");
}

int qcow2_l2_writable(struct qcow2_image *img, uint64_t l1i, uint8_t **tbl)
{
	uint64_t off;

	if (l1i >= img->h.l1_size)
		return err_set(EINVAL, "guest offset beyond the L1 table");
	if (qcow2_l1_offset(img, l1i, &off) < 0)
		return -1;
	if (off && qcow2_guard_l2(img, off) < 0)
		return -1;
	if (off && (img->l1[l1i] & QCOW2_OFLAG_COPIED))
		return qcow2_cache_get(img, &img->l2c, off, false, tbl);
	if (off)
		return l2_unshare(img, l1i, off, tbl);
	if (qcow2_alloc_clusters(img, 1, &off) < 0)
		return -1;
	if (qcow2_cache_get(img, &img->l2c, off, true, tbl) < 0)
		return -1;
	img->l1[l1i] = off | QCOW2_OFLAG_COPIED;
	l1_dirty(img, l1i);
	return 0;
}

void qcow2_l2_put(struct qcow2_image *img, uint8_t *t, uint64_t l2_off, uint64_t i, uint64_t e)
{
	be64_put(t + i * img->l2e_size, e);
	qcow2_cache_set_dirty(&img->l2c, l2_off);
}

int qcow2_l2_read_raw(struct qcow2_image *img, uint64_t l2_off, uint64_t *out)
{
	uint8_t *t;
	uint64_t words = img->l2_entries * (img->l2e_size / 8);

	if (!IS_ALIGNED(l2_off, img->cs) || !l2_off)
		return qcow2_err_corrupt(img, "L2 table offset 0x%llx invalid", (unsigned long long)l2_off);
	if (qcow2_cache_get(img, &img->l2c, l2_off, false, &t) < 0)
		return -1;
	for (uint64_t i = 0; i < words; i++)
		out[i] = be64_get(t + i * 8);
	return 0;
}

/* One unit (cluster or subcluster) of this image as a map kind; for a
 * compressed cluster host is the raw L2 entry, which locates the data. */
int qcow2_l2_unit_kind(struct qcow2_image *img, uint64_t e, uint64_t bm, unsigned sc,
		       enum qcow2_map_kind *k, uint64_t *host)
{
	switch (qcow2_l2_classify(img, e, bm, sc, host)) {
	case QCOW2_C_UNALLOCATED:
		*k = QCOW2_MAP_UNALLOCATED;
		return 0;
	case QCOW2_C_ZERO_PLAIN:
	case QCOW2_C_ZERO_ALLOC:
		*k = QCOW2_MAP_ZERO;
		return 0;
	case QCOW2_C_NORMAL:
		*k = QCOW2_MAP_DATA;
		return 0;
	case QCOW2_C_COMPRESSED:
		*k = QCOW2_MAP_COMPRESSED;
		*host = e;
		return 0;
	default:
		return qcow2_err_corrupt(img, "%s: invalid L2 entry 0x%llx", img->path, (unsigned long long)e);
	}
}
