/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* header.c: decoding, validation and encoding of the first cluster.
 *
 * Decoding applies the open-time checks of the format (magic, version,
 * cluster size, header length, feature bits, table alignment and bounds,
 * overlaps of the fixed tables) before any other code looks at the image;
 * hdrext.c walks the extension area, with the engine's strict rules.
 * Header extensions are kept in file order with their bytes verbatim, so
 * a rewrite of the first cluster loses nothing it does not understand.
 * The backing format and the hidden flag are decoded into fields; the
 * hidden extension stays in the list (its byte 0 is patched on encode) so
 * its position and any extra payload bytes survive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

void qcow2_header_decode_fixed(const uint8_t *b, struct qcow2_header *h)
{
	h->version = be32_get(b + 4);
	h->backing_file_offset = be64_get(b + 8);
	h->backing_file_size = be32_get(b + 16);
	h->cluster_bits = be32_get(b + 20);
	h->size = be64_get(b + 24);
	h->crypt_method = be32_get(b + 32);
	h->l1_size = be32_get(b + 36);
	h->l1_table_offset = be64_get(b + 40);
	h->refcount_table_offset = be64_get(b + 48);
	h->refcount_table_clusters = be32_get(b + 56);
	h->nb_snapshots = be32_get(b + 60);
	h->snapshots_offset = be64_get(b + 64);
}

void qcow2_header_decode_v3(const uint8_t *b, struct qcow2_header *h)
{
	h->incompatible_features = be64_get(b + 72);
	h->compatible_features = be64_get(b + 80);
	h->autoclear_features = be64_get(b + 88);
	h->refcount_order = be32_get(b + 96);
	h->header_length = be32_get(b + 100);
}

static int check_version(const uint8_t *b, uint64_t len, struct qcow2_header *h)
{
	if (len < QCOW2_V2_HEADER_LEN)
		return err_corrupt("qcow2 header truncated (%llu bytes)", (unsigned long long)len);
	if (be32_get(b) != QCOW2_MAGIC)
		return err_set(EINVAL, "not a qcow2 image (bad magic)");
	qcow2_header_decode_fixed(b, h);
	if (h->version != 2 && h->version != 3)
		return err_set(ENOTSUP, "unsupported qcow2 version %u", h->version);
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return err_set(ENOTSUP, "unsupported cluster_bits %u (9..21)", h->cluster_bits);
	if (h->version == 2) {
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HEADER_LEN;
		return 0;
	}
	if (len < QCOW2_V3_HEADER_LEN)
		return err_corrupt("qcow2 v3 header truncated (%llu bytes)", (unsigned long long)len);
	qcow2_header_decode_v3(b, h);
	return 0;
}

static int check_lengths(uint64_t len, struct qcow2_header *h)
{
	uint64_t cs = 1ull << h->cluster_bits;

	if (h->version == 3 && (h->header_length < QCOW2_V3_HEADER_LEN || h->header_length % 8))
		return err_corrupt("invalid qcow2 header_length %u", h->header_length);
	if (h->header_length > cs)
		return err_corrupt("qcow2 header_length %u exceeds the cluster size", h->header_length);
	if (h->header_length > len)
		return err_corrupt("qcow2 header truncated (header_length %u)", h->header_length);
	if (h->backing_file_offset > cs)
		return err_corrupt("backing file name offset %llu outside the first cluster",
				   (unsigned long long)h->backing_file_offset);
	if (h->backing_file_offset == 0)
		return 0;
	if (h->backing_file_size > QCOW2_MAX_BACKING_NAME ||
	    h->backing_file_size > cs - h->backing_file_offset)
		return err_corrupt("backing file name too long (%u bytes)", h->backing_file_size);
	if (h->backing_file_offset < h->header_length)
		return err_corrupt("backing file name overlaps the header");
	if (h->backing_file_offset + h->backing_file_size > len)
		return err_corrupt("backing file name beyond the end of the image");
	return 0;
}

static int check_features(const uint8_t *b, struct qcow2_header *h)
{
	uint64_t unknown = h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN;

	if (h->header_length > QCOW2_V3_HEADER_LEN)
		h->compression_type = b[QCOW2_V3_HEADER_LEN];
	if (unknown)
		return err_set(ENOTSUP, "unsupported incompatible qcow2 features 0x%llx",
			       (unsigned long long)unknown);
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
		return err_set(ENOTSUP, "qcow2 images with an external data file are not supported");
	if (h->crypt_method)
		return err_set(ENOTSUP, "encrypted qcow2 images are not supported");
	if (h->refcount_order > 6)
		return err_corrupt("invalid refcount_order %u", h->refcount_order);
	if (!!h->compression_type != !!(h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION))
		return err_corrupt("compression type %u does not match the feature bit",
				   h->compression_type);
	if (h->compression_type)
		return err_set(ENOTSUP, "unsupported compression type %u", h->compression_type);
	if ((h->incompatible_features & QCOW2_INCOMPAT_EXTL2) && h->cluster_bits < 14)
		return err_corrupt("extended L2 entries need clusters of 16 KiB or more");
	return 0;
}

/* A table of bytes at off must be aligned, not overflow, stay below the
 * host offset limit and inside the file, and must not cover cluster 0. */
static int check_table(const char *what, uint64_t off, uint64_t bytes, uint64_t cs,
		       uint64_t file_size)
{
	uint64_t end;

	if (bytes == 0)
		return 0;
	if (!IS_ALIGNED(off, cs) || off == 0)
		return err_corrupt("%s offset 0x%llx invalid", what, (unsigned long long)off);
	if (ADD_OVERFLOW(off, bytes, &end) || end > QCOW2_MAX_HOST_OFFSET || end > file_size)
		return err_corrupt("%s at 0x%llx (%llu bytes) beyond the end of the image", what,
				   (unsigned long long)off, (unsigned long long)bytes);
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static int check_tables(struct qcow2_header *h, uint64_t file_size)
{
	uint64_t cs = 1ull << h->cluster_bits;
	uint64_t l1b = (uint64_t)h->l1_size * 8;
	uint64_t rtb = (uint64_t)h->refcount_table_clusters << h->cluster_bits;
	uint64_t fs = file_size;

	if (!align_up_checked(file_size, cs, &fs))
		fs = file_size;
	if (l1b > QCOW2_MAX_L1_BYTES)
		return err_corrupt("L1 table too large (%u entries)", h->l1_size);
	if (h->l1_size < qcow2_size_to_l1(h, h->size))
		return err_corrupt("L1 table too small (%u entries) for virtual size %llu",
				   h->l1_size, (unsigned long long)h->size);
	if (h->refcount_table_clusters == 0 || rtb > QCOW2_MAX_REFTABLE_BYTES)
		return err_corrupt("invalid refcount table size (%u clusters)",
				   h->refcount_table_clusters);
	if (check_table("L1 table", h->l1_table_offset, l1b, cs, fs) < 0 ||
	    check_table("refcount table", h->refcount_table_offset, rtb, cs, fs) < 0)
		return -1;
	if (ranges_overlap(h->l1_table_offset, l1b, h->refcount_table_offset, rtb))
		return err_corrupt("L1 table and refcount table overlap");
	if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
		return err_corrupt("too many snapshots (%u)", h->nb_snapshots);
	if (h->nb_snapshots)
		return check_table("snapshot table", h->snapshots_offset, 1, cs, fs);
	return 0;
}

/* Room for one more extension; the array doubles, as a first cluster of
 * 2 MiB holds up to 256 Ki extensions. */
static int reserve_ext(struct qcow2_header *h)
{
	int cap = h->exts_cap ? 2 * h->exts_cap : 8;
	struct qcow2_ext *e;

	if (h->nb_exts < h->exts_cap)
		return 0;
	e = realloc(h->exts, (size_t)cap * sizeof *e);
	if (!e)
		return err_set(ENOMEM, "out of memory");
	h->exts = e;
	h->exts_cap = cap;
	return 0;
}

static int add_ext(struct qcow2_header *h, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct qcow2_ext *e;

	if (reserve_ext(h) < 0)
		return -1;
	e = &h->exts[h->nb_exts];
	e->type = type;
	e->len = len;
	e->data = malloc(len ? len : 1);
	if (!e->data)
		return err_set(ENOMEM, "out of memory");
	memcpy(e->data, data, len);
	h->nb_exts++;
	return 0;
}

/* One extension from the walk; repeats were refused by the walk itself.
 * The backing format becomes a field; everything else is kept verbatim. */
static int take_ext(void *arg, uint32_t type, const uint8_t *d, uint32_t len)
{
	struct qcow2_header *h = arg;

	if (type == QCOW2_EXT_BACKING_FMT) {
		if (len == 0 || len >= sizeof h->backing_fmt || memchr(d, 0, len))
			return err_corrupt("invalid backing format extension (%u bytes)", len);
		memcpy(h->backing_fmt, d, len);
		h->backing_fmt[len] = '\0';
		return 0;
	}
	if (type == QCOW2_EXT_HIDDEN) {
		if (len < 1)
			return err_corrupt("empty hidden-flag extension");
		h->hidden = d[0] != 0;
		h->has_hidden_ext = true;
	}
	return add_ext(h, type, d, len);
}

static void read_backing_name(const uint8_t *b, struct qcow2_header *h)
{
	if (!h->backing_file_offset || !h->backing_file_size)
		return;
	memcpy(h->backing_file, b + h->backing_file_offset, h->backing_file_size);
	h->backing_file[h->backing_file_size] = '\0';
}

static int keep_extra_fields(const uint8_t *b, struct qcow2_header *h)
{
	if (h->header_length <= QCOW2_V3_HEADER_LEN + 1)
		return 0;
	h->extra_fields_len = h->header_length - QCOW2_V3_HEADER_LEN - 1;
	h->extra_fields = malloc(h->extra_fields_len);
	if (!h->extra_fields)
		return err_set(ENOMEM, "out of memory");
	memcpy(h->extra_fields, b + QCOW2_V3_HEADER_LEN + 1, h->extra_fields_len);
	return 0;
}

uint64_t qcow2_size_to_l1(const struct qcow2_header *h, uint64_t size)
{
	unsigned shift = h->cluster_bits + h->cluster_bits - 3;
	uint64_t n;

	if (h->incompatible_features & QCOW2_INCOMPAT_EXTL2)
		shift--;
	n = (size >> shift) + !!(size & ((1ull << shift) - 1));
	return n;
}

int qcow2_header_decode(const uint8_t *buf, uint64_t len, uint64_t file_size,
			struct qcow2_header *h)
{
	memset(h, 0, sizeof *h);
	if (check_version(buf, len, h) < 0 || check_lengths(len, h) < 0 ||
	    check_features(buf, h) < 0 || check_tables(h, file_size) < 0 ||
	    keep_extra_fields(buf, h) < 0 ||
	    qcow2_hdrext_walk(buf, len, h, QCOW2_HDREXT_STRICT, take_ext, h) < 0) {
		qcow2_header_free(h);
		return -1;
	}
	read_backing_name(buf, h);
	return 0;
}

void qcow2_header_free(struct qcow2_header *h)
{
	for (int i = 0; i < h->nb_exts; i++)
		free(h->exts[i].data);
	free(h->exts);
	free(h->extra_fields);
	h->exts = NULL;
	h->nb_exts = 0;
	h->exts_cap = 0;
	h->extra_fields = NULL;
	h->extra_fields_len = 0;
}

int qcow2_header_set_hidden(struct qcow2_header *h, bool hidden)
{
	static const uint8_t zero[QCOW2_HIDDEN_EXT_LEN];

	if (!h->has_hidden_ext) {
		if (add_ext(h, QCOW2_EXT_HIDDEN, zero, sizeof zero) < 0)
			return -1;
		h->has_hidden_ext = true;
	}
	h->hidden = hidden;
	return 0;
}

int qcow2_header_copy(struct qcow2_header *dst, const struct qcow2_header *src)
{
	*dst = *src;
	dst->exts = NULL;
	dst->nb_exts = 0;
	dst->exts_cap = 0;
	dst->extra_fields = NULL;
	if (src->extra_fields_len) {
		dst->extra_fields = malloc(src->extra_fields_len);
		if (!dst->extra_fields)
			return err_set(ENOMEM, "out of memory");
		memcpy(dst->extra_fields, src->extra_fields, src->extra_fields_len);
	}
	for (int i = 0; i < src->nb_exts; i++)
		if (add_ext(dst, src->exts[i].type, src->exts[i].data, src->exts[i].len) < 0) {
			qcow2_header_free(dst);
			return -1;
		}
	return 0;
}

/* --- encoding --- */

static void encode_fixed(const struct qcow2_header *h, uint8_t *b)
{
	be32_put(b, QCOW2_MAGIC);
	be32_put(b + 4, h->version);
	be32_put(b + 20, h->cluster_bits);
	be64_put(b + 24, h->size);
	be32_put(b + 32, h->crypt_method);
	be32_put(b + 36, h->l1_size);
	be64_put(b + 40, h->l1_table_offset);
	be64_put(b + 48, h->refcount_table_offset);
	be32_put(b + 56, h->refcount_table_clusters);
	be32_put(b + 60, h->nb_snapshots);
	be64_put(b + 64, h->snapshots_offset);
	if (h->version < 3)
		return;
	be64_put(b + 72, h->incompatible_features);
	be64_put(b + 80, h->compatible_features);
	be64_put(b + 88, h->autoclear_features);
	be32_put(b + 96, h->refcount_order);
	be32_put(b + 100, h->header_length);
	if (h->header_length > QCOW2_V3_HEADER_LEN)
		b[QCOW2_V3_HEADER_LEN] = h->compression_type;
	if (h->extra_fields_len)
		memcpy(b + QCOW2_V3_HEADER_LEN + 1, h->extra_fields, h->extra_fields_len);
}

/* Appends one extension at *off; false when it does not fit. */
static bool put_ext(uint8_t *b, uint64_t cs, uint64_t *off, uint32_t type,
		    const uint8_t *data, uint32_t len)
{
	uint64_t padded = ((uint64_t)len + 7) & ~7ull;

	if (*off + 8 + padded > cs)
		return false;
	be32_put(b + *off, type);
	be32_put(b + *off + 4, len);
	memcpy(b + *off + 8, data, len);
	*off += 8 + padded;
	return true;
}

static bool put_exts(const struct qcow2_header *h, uint8_t *b, uint64_t cs, uint64_t *off)
{
	const char *fmt = h->backing_fmt;

	if (fmt[0] && !put_ext(b, cs, off, QCOW2_EXT_BACKING_FMT, (const uint8_t *)fmt,
			       (uint32_t)strlen(fmt)))
		return false;
	for (int i = 0; i < h->nb_exts; i++) {
		const struct qcow2_ext *e = &h->exts[i];
		uint64_t at = *off + 8;

		if (!put_ext(b, cs, off, e->type, e->data, e->len))
			return false;
		if (e->type == QCOW2_EXT_HIDDEN)
			b[at] = h->hidden;
	}
	return *off + 8 <= cs;
}

int qcow2_header_encode(const struct qcow2_header *h, uint8_t *cluster, uint32_t cluster_size)
{
	uint64_t off = h->version >= 3 ? h->header_length : QCOW2_V2_HEADER_LEN;
	size_t blen = strlen(h->backing_file);

	if (cluster_size != 1u << h->cluster_bits || off > cluster_size)
		return err_set(EINVAL, "header does not match the cluster size");
	if (blen > QCOW2_MAX_BACKING_NAME)
		return err_set(EINVAL, "backing file name too long (%zu bytes)", blen);
	memset(cluster, 0, cluster_size);
	encode_fixed(h, cluster);
	if (!put_exts(h, cluster, cluster_size, &off))
		return err_set(ENOSPC, "header extensions do not fit in the first cluster");
	off += 8; /* the end marker is already zero */
	if (blen == 0)
		return 0;
	if (off + blen > cluster_size)
		return err_set(ENOSPC, "backing file name does not fit in the first cluster");
	memcpy(cluster + off, h->backing_file, blen);
	be64_put(cluster + 8, off);
	be32_put(cluster + 16, (uint32_t)blen);
	return 0;
}
