/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the header extension walk: what it hands to its callback
 * on a good area, and the refusals (never a crash) on hostile ones, in the
 * engine's strict mode and in the checker's qemu mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

#define CS 4096
#define HL 104                   /* header_length: extensions from here */
#define STRICT QCOW2_HDREXT_STRICT
#define QEMU 0u

struct seen {
	int n;
	uint32_t type[8];
	uint32_t len[8];
	const uint8_t *data[8];
	int fail_at;                 /* the callback fails on this call, -1 never */
};

static int record(void *arg, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct seen *s = arg;

	if (s->n == s->fail_at)
		return err_set(EINVAL, "callback refused 0x%08x", type);
	if (s->n < 8) {
		s->type[s->n] = type;
		s->len[s->n] = len;
		s->data[s->n] = data;
	}
	s->n++;
	return 0;
}

static struct qcow2_header hdr(uint64_t backing_off)
{
	struct qcow2_header h;

	memset(&h, 0, sizeof h);
	h.version = 3;
	h.cluster_bits = 12;
	h.header_length = HL;
	h.backing_file_offset = backing_off;
	return h;
}

/* Puts one extension head and payload at *off, moves *off past the padding. */
static void put(uint8_t *b, uint32_t *off, uint32_t type, uint32_t len, const char *data)
{
	be32_put(b + *off, type);
	be32_put(b + *off + 4, len);
	if (data)
		memcpy(b + *off + 8, data, len);
	*off += 8 + ((len + 7) & ~7u);
}

/* Walks b (len bytes) with h and flags; returns the walk's result and, on
 * failure, checks that the reason is recorded as corruption. */
static int walk(const uint8_t *b, uint64_t len, const struct qcow2_header *h, unsigned flags,
		struct seen *s)
{
	int r;

	memset(s, 0, sizeof *s);
	s->fail_at = -1;
	err_clear();
	r = qcow2_hdrext_walk(b, len, h, flags, record, s);
	if (r < 0)
		assert_int_equal(err_errnum(), EUCLEAN);
	return r;
}

static void test_good_area(void **state)
{
	uint8_t b[CS] = { 0 };
	uint32_t off = HL;
	struct qcow2_header h = hdr(0);
	struct seen s;

	(void)state;
	put(b, &off, QCOW2_EXT_BACKING_FMT, 5, "qcow2");
	put(b, &off, 0x12345678, 3, "abc");
	put(b, &off, QCOW2_EXT_HIDDEN, 8, "\1\0\0\0\0\0\0\0");
	put(b, &off, QCOW2_EXT_END, 0, NULL);
	put(b, &off, 0x11111111, 1, "x");   /* after the end marker: not seen */
	for (unsigned flags = 0; flags <= STRICT; flags++) {
		assert_int_equal(walk(b, CS, &h, flags, &s), 0);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.type[1], 0x12345678);
		assert_int_equal(s.len[1], 3);
		assert_ptr_equal(s.data[1], b + HL + 16 + 8);
		assert_int_equal(s.type[2], QCOW2_EXT_HIDDEN);
	}
}

/* Fewer than 8 bytes left before the backing name: qemu refuses it too. */
static void test_truncated_head(void **state)
{
	uint8_t b[CS] = { 0 };
	uint32_t off = HL;
	struct qcow2_header h;
	struct seen s;

	(void)state;
	put(b, &off, 0x12345678, 8, "abcdefgh");
	h = hdr(off + 4);
	assert_int_equal(walk(b, CS, &h, STRICT, &s), -1);
	assert_int_equal(walk(b, CS, &h, QEMU, &s), -1);
	assert_int_equal(s.n, 0);           /* nothing handed out before the refusal */
	h = hdr(off);                       /* the name right after: fine */
	assert_int_equal(walk(b, CS, &h, STRICT, &s), 0);
	assert_int_equal(s.n, 1);
}

/* A buffer that stops inside a payload (a file shorter than its cluster). */
static void test_truncated_payload(void **state)
{
	uint8_t b[CS] = { 0 };
	uint32_t off = HL;
	struct qcow2_header h = hdr(0);
	struct seen s;

	(void)state;
	put(b, &off, 0x12345678, 64, NULL);
	for (uint64_t len = HL + 1; len < off; len++) {
		assert_int_equal(walk(b, len, &h, STRICT, &s), -1);
		assert_int_equal(walk(b, len, &h, QEMU, &s), -1);
	}
	/* Ending on an extension boundary: the zeros past it end the area. */
	assert_int_equal(walk(b, off, &h, STRICT, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(walk(b, HL, &h, STRICT, &s), 0);
	assert_int_equal(s.n, 0);
}

/* Lengths near 2^32 must not wrap the offset arithmetic. */
static void test_length_overflow(void **state)
{
	static const uint32_t lens[] = { UINT32_MAX, UINT32_MAX - 7, UINT32_MAX - 8, CS };
	uint8_t b[CS] = { 0 };
	struct qcow2_header h = hdr(0);
	struct seen s;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		uint32_t off = HL;

		put(b, &off, 0x12345678, lens[i], NULL);
		assert_int_equal(walk(b, CS, &h, STRICT, &s), -1);
		assert_int_equal(walk(b, CS, &h, QEMU, &s), -1);
		be32_put(b + HL, QCOW2_EXT_END); /* an end marker's length counts too */
		assert_int_equal(walk(b, CS, &h, STRICT, &s), -1);
		assert_int_equal(walk(b, CS, &h, QEMU, &s), -1);
	}
}

/* No end marker: refused by the engine when nothing follows the area;
 * before a backing name, and for the checker (as qemu), accepted. */
static void test_missing_end(void **state)
{
	uint8_t b[CS];
	uint32_t off = HL;
	struct qcow2_header h = hdr(0);
	struct seen s;

	(void)state;
	memset(b, 0xee, sizeof b);
	put(b, &off, 0x12345678, CS - HL - 8, NULL);   /* fills the cluster */
	assert_int_equal(off, CS);
	assert_int_equal(walk(b, CS, &h, STRICT, &s), -1);
	assert_non_null(strstr(err_last()->msg, "end marker"));
	assert_int_equal(walk(b, CS, &h, QEMU, &s), 0);
	assert_int_equal(s.n, 1);
	off = HL;
	put(b, &off, 0x12345678, 24, NULL);
	h = hdr(off);                                  /* the name follows at once */
	assert_int_equal(walk(b, CS, &h, STRICT, &s), 0);
	assert_int_equal(s.n, 1);
}

static void test_into_backing_name(void **state)
{
	uint8_t b[CS] = { 0 };
	uint32_t off = HL;
	struct qcow2_header h;
	struct seen s;

	(void)state;
	put(b, &off, 0x12345678, 21, NULL);            /* payload ends at 133 */
	for (uint64_t name = HL + 8; name < HL + 8 + 21; name++) {
		h = hdr(name);
		assert_int_equal(walk(b, CS, &h, STRICT, &s), -1);
		assert_int_equal(walk(b, CS, &h, QEMU, &s), -1);
	}
	/* The padding running into the name: only the engine refuses it. */
	h = hdr(HL + 8 + 21);
	assert_int_equal(walk(b, CS, &h, STRICT, &s), -1);
	assert_int_equal(walk(b, CS, &h, QEMU, &s), 0);
	assert_int_equal(s.n, 1);
}

static void test_duplicate(void **state)
{
	uint8_t b[CS] = { 0 };
	uint32_t off = HL;
	struct qcow2_header h = hdr(0);
	struct seen s;

	(void)state;
	put(b, &off, QCOW2_EXT_FEATURE_TABLE, 48, NULL);
	put(b, &off, 0x12345678, 0, NULL);
	put(b, &off, QCOW2_EXT_FEATURE_TABLE, 48, NULL);
	assert_int_equal(walk(b, CS, &h, STRICT, &s), -1);
	assert_non_null(strstr(err_last()->msg, "6803f857"));
	assert_int_equal(s.n, 0);
	assert_int_equal(walk(b, CS, &h, QEMU, &s), 0);  /* qemu: the last one wins */
	assert_int_equal(s.n, 3);
}

/* The most extensions a cluster holds, all different, then one repeat. */
static void test_many(void **state)
{
	uint64_t cs = UINT64_C(1) << QCOW2_MAX_CLUSTER_BITS;
	uint8_t *b = calloc(1, cs);
	struct qcow2_header h = hdr(0);
	uint32_t off = HL, n = 0;
	struct seen s;

	(void)state;
	assert_non_null(b);
	h.cluster_bits = QCOW2_MAX_CLUSTER_BITS;
	while (off + 16 <= cs)
		put(b, &off, 0x10000000 + n++, 0, NULL);
	assert_int_equal(walk(b, cs, &h, STRICT, &s), 0);
	assert_int_equal(s.n, n);
	be32_put(b + off - 8, 0x10000000);
	assert_int_equal(walk(b, cs, &h, STRICT, &s), -1);
	assert_int_equal(walk(b, cs, &h, QEMU, &s), 0);
	free(b);
}

static void test_callback_error(void **state)
{
	uint8_t b[CS] = { 0 };
	uint32_t off = HL;
	struct qcow2_header h = hdr(0);
	struct seen s = { .fail_at = 1 };

	(void)state;
	put(b, &off, 0x12345678, 0, NULL);
	put(b, &off, 0x12345679, 0, NULL);
	put(b, &off, 0x1234567a, 0, NULL);
	err_clear();
	assert_int_equal(qcow2_hdrext_walk(b, CS, &h, STRICT, record, &s), -1);
	assert_int_equal(err_errnum(), EINVAL);
	assert_int_equal(s.n, 1);
}

/* Every length and every area end over one hostile cluster: an error or a
 * success, never a read outside the buffer (ASan watches the heap copy). */
static void test_every_bound(void **state)
{
	uint8_t b[256];
	struct seen s;

	(void)state;
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)(i * 37);
	for (uint32_t off = HL; off < sizeof b; off += 8)
		be32_put(b + off + 4, off % 24);
	for (uint64_t len = 0; len <= sizeof b; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct qcow2_header h = hdr(0);

		memcpy(copy, b, len);
		h.cluster_bits = 9;
		for (uint64_t name = 0; name <= 512; name += 4) {
			h.backing_file_offset = name;
			(void)walk(copy, len, &h, STRICT, &s);
			(void)walk(copy, len, &h, QEMU, &s);
		}
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_area),
		cmocka_unit_test(test_truncated_head),
		cmocka_unit_test(test_truncated_payload),
		cmocka_unit_test(test_length_overflow),
		cmocka_unit_test(test_missing_end),
		cmocka_unit_test(test_into_backing_name),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_every_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
