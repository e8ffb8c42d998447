/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hdrext.c: the one walk over the header extensions of the first cluster,
 * used by the opener (header.c) and the checker (check-header.c).
 *
 * The extension area runs from header_length to the backing file name, or
 * to the end of the first cluster when there is none.  Each extension is a
 * big-endian type and length, the payload and padding to a multiple of 8;
 * type 0 ends the area.  Every rule on the area's bounds lives here:
 *
 *  - an extension's 8-byte head must lie inside the area ("truncated"),
 *    and so must its payload ("too large"); qemu refuses both.  The end
 *    marker's length is checked like any other, again as qemu does;
 *  - bytes past the end of the buffer (a file shorter than a cluster) read
 *    as zeros, that is as an end marker, as qemu's reads past the end of
 *    the file do; a payload that would lie there is refused.
 *
 * QCOW2_HDREXT_STRICT adds the engine's own rules, which qemu does not
 * apply (the checker must accept whatever qemu opens, so it walks without
 * them):
 *
 *  - each type appears at most once, as the format requires;
 *  - an extension's padding stays inside the area too;
 *  - without a backing name the area ends with an end marker inside the
 *    cluster: the encoder always writes one, so an area filled to the
 *    cluster's last byte could never be rewritten.  Before a backing name
 *    the marker may be missing (qemu opens such images, and the rewrite
 *    has room: the name moves).
 *
 * The whole area is validated before the first callback, so a caller never
 * acts on part of an area that is then refused.  Repeated types are found
 * by sorting: a 2 MiB cluster holds 256 Ki extensions, too many to compare
 * pairwise.
 */
#include <assert.h>
#include <stdlib.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

#define EXT_HEAD_LEN 8

struct cursor {
	const uint8_t *buf;
	uint64_t len;        /* bytes in buf; zeros beyond */
	uint64_t off;        /* the next extension's head */
	uint64_t end;        /* the end of the area */
	bool strict;
	bool ended;          /* an end marker (or the zeros past buf) was met */
};

static uint64_t pad8(uint32_t n)
{
	return ((uint64_t)n + 7) & ~UINT64_C(7);
}

static void cursor_init(struct cursor *c, const uint8_t *buf, uint64_t len,
			const struct qcow2_header *h, unsigned flags)
{
	uint64_t cs;

	assert(h->cluster_bits >= QCOW2_MIN_CLUSTER_BITS &&
	       h->cluster_bits <= QCOW2_MAX_CLUSTER_BITS);
	cs = UINT64_C(1) << h->cluster_bits;
	assert(h->header_length <= cs && h->backing_file_offset <= cs);
	c->buf = buf;
	c->len = len;
	c->end = h->backing_file_offset ? h->backing_file_offset : cs;
	c->off = MIN((uint64_t)h->header_length, c->end);
	c->strict = flags & QCOW2_HDREXT_STRICT;
	c->ended = false;
}

/* The head at c->off; the part past the buffer reads as zeros. */
static void read_head(const struct cursor *c, uint32_t *type, uint32_t *len)
{
	uint8_t head[EXT_HEAD_LEN] = { 0 };

	if (c->off < c->len)
		memcpy(head, c->buf + c->off, MIN(c->len - c->off, (uint64_t)EXT_HEAD_LEN));
	*type = be32_get(head);
	*len = be32_get(head + 4);
}

/* 1: the next extension is in *type, *data, *len; 0: the area ends (see
 * c->ended); -1: refused, recorded. */
static int next_ext(struct cursor *c, uint32_t *type, const uint8_t **data, uint32_t *len)
{
	uint64_t at = c->off;

	if (c->off >= c->end)
		return 0;
	if (c->off >= c->len) {
		c->ended = true;
		return 0;
	}
	if (c->end - c->off < EXT_HEAD_LEN)
		return err_corrupt("qcow2 header extension at offset %llu truncated",
				   (unsigned long long)at);
	read_head(c, type, len);
	c->off += EXT_HEAD_LEN;
	if ((c->strict ? pad8(*len) : *len) > c->end - c->off)
		return err_corrupt("qcow2 header extension 0x%08x too large (%u bytes)", *type, *len);
	if (*type == QCOW2_EXT_END) {
		c->ended = true;
		return 0;
	}
	if (c->off + *len > c->len)
		return err_corrupt("qcow2 header extension 0x%08x beyond the end of the image", *type);
	*data = c->buf + c->off;
	c->off += pad8(*len);
	return 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int check_unique(uint32_t *types, size_t n)
{
	qsort(types, n, sizeof *types, cmp_u32);
	for (size_t i = 1; i < n; i++)
		if (types[i] == types[i - 1])
			return err_corrupt("duplicate qcow2 header extension 0x%08x", types[i]);
	return 0;
}

/* The engine's rules on the area as a whole (c is at its end). */
static int check_strict(const struct cursor *c, bool has_backing, uint32_t *types, size_t n)
{
	if (!c->ended && !has_backing)
		return err_corrupt("qcow2 header extensions have no end marker");
	return check_unique(types, n);
}

/* Pass one, on its own copy of the cursor: every bound, and the strict
 * rules, before any callback. */
static int check_area(struct cursor c, bool has_backing)
{
	/* Every extension but the last takes at least 8 bytes of the area. */
	size_t cap = (c.end - c.off) / EXT_HEAD_LEN + 1, n = 0;
	uint32_t *types = NULL, type, len;
	const uint8_t *data;
	int r;

	if (c.strict && !(types = malloc(cap * sizeof *types)))
		return err_set(ENOMEM, "out of memory");
	while ((r = next_ext(&c, &type, &data, &len)) > 0)
		if (types) {
			assert(n < cap);
			types[n++] = type;
		}
	if (r == 0 && c.strict)
		r = check_strict(&c, has_backing, types, n);
	free(types);
	return r;
}

int qcow2_hdrext_walk(const uint8_t *buf, uint64_t len, const struct qcow2_header *h,
		      unsigned flags, qcow2_hdrext_fn fn, void *arg)
{
	struct cursor c;
	uint32_t type, elen;
	const uint8_t *data;
	int r;

	cursor_init(&c, buf, len, h, flags);
	if (check_area(c, h->backing_file_offset != 0) < 0)
		return -1;
	while ((r = next_ext(&c, &type, &data, &elen)) > 0)
		if (fn(arg, type, data, elen) < 0)
			return -1;
	assert(r == 0); /* the area passed check_area */
	return 0;
}
