/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-header.c: the header as qemu-img check sees it.
 *
 * The engine's decoder (header.c) is deliberately stricter than qemu: it
 * refuses, for instance, tables that overlap or lie past the end of the
 * file, because it is about to write.  The checker instead must accept
 * every header qemu opens for a check and report the damage as counts, so
 * it applies exactly qemu's open-time rules here: a failure means "could
 * not open" (exit 1), everything else is left to the reference walk.
 */
#include <stdio.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "check-int.h"

#define BITMAPS_EXT_LEN 24
#define AUTOCLEAR_DATA_FILE_RAW (1ull << 1)
#define MAX_BITMAPS 65535
#define MAX_BITMAP_DIR (MAX_BITMAPS * 1024u)

static void decode_fields(const uint8_t *b, struct qcow2_header *h)
{
	qcow2_header_decode_fixed(b, h);
	h->refcount_order = 4;
	h->header_length = QCOW2_V2_HEADER_LEN;
	if (h->version == 3) {
		qcow2_header_decode_v3(b, h);
		h->compression_type = h->header_length > 104 ? b[104] : 0;
	}
}

static int check_fields(const struct qcow2_header *h)
{
	uint64_t cs = UINT64_C(1) << h->cluster_bits;

	if (h->version == 3 && h->header_length < QCOW2_V3_HEADER_LEN)
		return err_corrupt("qcow2 header too short (%u bytes)", h->header_length);
	if (h->header_length > cs)
		return err_corrupt("qcow2 header exceeds the cluster size");
	if (h->backing_file_offset > cs)
		return err_corrupt("invalid backing file offset");
	if (h->backing_file_offset && (h->backing_file_size > MIN(1023, cs - h->backing_file_offset)))
		return err_corrupt("backing file name too long");
	if (h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN)
		return err_set(ENOTSUP, "unsupported qcow2 features");
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
		return err_set(ENOTSUP, "images with an external data file cannot be checked");
	if (h->autoclear_features & AUTOCLEAR_DATA_FILE_RAW)
		return err_corrupt("data-file-raw set without a data file");
	if (h->refcount_order > 6)
		return err_corrupt("refcount width too large (order %u)", h->refcount_order);
	if (h->crypt_method != 0)
		return err_set(ENOTSUP, "encrypted images cannot be checked");
	if (h->compression_type > 1 ||
	    (h->compression_type != 0) != !!(h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION))
		return err_corrupt("invalid compression type %u", h->compression_type);
	if ((h->incompatible_features & QCOW2_INCOMPAT_EXTL2) && h->cluster_bits < 14)
		return err_corrupt("extended L2 entries need clusters of 16 KiB or more");
	return 0;
}

/* qemu's table rule: size capped, offset aligned, end within int64. */
static int check_table(const struct chk *c, const char *what, uint64_t off, uint64_t entries,
		       uint64_t entry_len, uint64_t max_bytes)
{
	if (entries > max_bytes / entry_len)
		return err_corrupt("%s too large", what);
	if (INT64_MAX - entries * entry_len < off || !IS_ALIGNED(off, c->cs))
		return err_corrupt("%s offset invalid", what);
	return 0;
}

static int check_tables(struct chk *c)
{
	const struct qcow2_header *h = &c->h;
	uint64_t l1_min = DIV_ROUND_UP(h->size, c->cs * c->l2_entries);

	if (h->size > (UINT64_C(1) << 62) || l1_min > INT32_MAX)
		return err_corrupt("image too big");
	if (h->l1_size > QCOW2_MAX_L1_BYTES / 8)
		return err_corrupt("active L1 table too large");
	if (h->l1_size < l1_min)
		return err_corrupt("L1 table is too small");
	if (check_table(c, "refcount table", h->refcount_table_offset,
			h->refcount_table_clusters, c->cs, QCOW2_MAX_REFTABLE_BYTES) < 0)
		return -1;
	return check_table(c, "active L1 table", h->l1_table_offset, h->l1_size, 8,
			   QCOW2_MAX_L1_BYTES);
}

static int take_bitmaps_ext(struct chk *c, const uint8_t *d, uint32_t len)
{
	if (!(c->h.autoclear_features & QCOW2_AUTOCLEAR_BITMAPS))
		return 0;       /* inconsistent bitmaps are ignored: their clusters leak */
	if (len != BITMAPS_EXT_LEN || be32_get(d + 4) != 0)
		return err_corrupt("invalid bitmaps extension");
	c->bm_nb = be32_get(d);
	c->bm_dir_size = be64_get(d + 8);
	c->bm_dir_off = be64_get(d + 16);
	if (c->bm_nb == 0 || c->bm_nb > MAX_BITMAPS || c->bm_dir_size > MAX_BITMAP_DIR ||
	    !IS_ALIGNED(c->bm_dir_off, c->cs))
		return err_corrupt("invalid bitmaps extension");
	c->has_bitmaps = true;
	return 0;
}

/* One extension from the walk (qemu's rules: repeats allowed, the last
 * one wins); only the backing format's length and the bitmaps matter to
 * the check. */
static int take_ext(void *arg, uint32_t type, const uint8_t *d, uint32_t len)
{
	struct chk *c = arg;

	if (type == QCOW2_EXT_BACKING_FMT && len >= 16)
		return err_corrupt("backing format name too long");
	if (type == QCOW2_EXT_BITMAPS)
		return take_bitmaps_ext(c, d, len);
	return 0;
}

int chk_header_decode(struct chk *c, const uint8_t *b, uint64_t len)
{
	struct qcow2_header *h = &c->h;

	decode_fields(b, h);
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return err_corrupt("unsupported cluster size (%u bits)", h->cluster_bits);
	if (check_fields(h) < 0)
		return -1;
	c->cs = UINT64_C(1) << h->cluster_bits;
	c->l2_entries = c->cs / ((h->incompatible_features & QCOW2_INCOMPAT_EXTL2) ? 16 : 8);
	if (check_tables(c) < 0)
		return -1;
	return qcow2_hdrext_walk(b, len, h, 0, take_ext, c);
}
