/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the qcow2 header codec: round trips (unknown extensions
 * and header fields kept byte for byte, the hidden flag), and every
 * open-time validation rejecting a crafted header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "qcow2-int.h"

#define CS 4096
#define FILE_SIZE (64 * CS)

/* A v3 header: 112-byte header, unknown field bytes, backing format,
 * an unknown extension, the hidden extension, backing name. */
static void build(uint8_t *b)
{
	uint32_t off = 112;

	memset(b, 0, CS);
	be32_put(b, QCOW2_MAGIC);
	be32_put(b + 4, 3);
	be32_put(b + 20, 12);
	be64_put(b + 24, 8 << 20);
	be32_put(b + 36, 4);                /* 8 MiB at 4 KiB clusters: 4 L2 tables */
	be64_put(b + 40, 3 * CS);
	be64_put(b + 48, 1 * CS);
	be32_put(b + 56, 1);
	be32_put(b + 96, 4);
	be32_put(b + 100, 112);
	b[105] = 0xab;                      /* unknown additional header field */
	be32_put(b + off, QCOW2_EXT_BACKING_FMT);
	be32_put(b + off + 4, 5);
	memcpy(b + off + 8, "qcow2", 5);
	off += 16;
	be32_put(b + off, 0x12345678);
	be32_put(b + off + 4, 5);
	memcpy(b + off + 8, "\x01\x02\x03\x04\x05", 5);
	off += 16;
	be32_put(b + off, QCOW2_EXT_HIDDEN);
	be32_put(b + off + 4, 8);
	b[off + 8] = 1;
	b[off + 9] = 0x5a;                  /* other payload bytes survive */
	off += 16 + 8;                      /* end marker */
	be64_put(b + 8, off);
	be32_put(b + 16, 8);
	memcpy(b + off, "base.raw", 8);
}

static int decode(const uint8_t *b, struct qcow2_header *h)
{
	return qcow2_header_decode(b, CS, FILE_SIZE, h);
}

static void test_decode(void **state)
{
	uint8_t b[CS];
	struct qcow2_header h;

	(void)state;
	build(b);
	assert_int_equal(decode(b, &h), 0);
	assert_int_equal(h.version, 3);
	assert_int_equal(h.cluster_bits, 12);
	assert_string_equal(h.backing_file, "base.raw");
	assert_string_equal(h.backing_fmt, "qcow2");
	assert_true(h.hidden);
	assert_true(h.has_hidden_ext);
	assert_int_equal(h.nb_exts, 2);
	assert_int_equal(h.exts[0].type, 0x12345678);
	assert_int_equal(h.extra_fields_len, 7);
	assert_int_equal(h.extra_fields[0], 0xab);
	qcow2_header_free(&h);
}

static void test_round_trip(void **state)
{
	uint8_t b[CS], e[CS];
	struct qcow2_header h, h2;

	(void)state;
	build(b);
	assert_int_equal(decode(b, &h), 0);
	assert_int_equal(qcow2_header_encode(&h, e, CS), 0);
	assert_memory_equal(b, e, CS); /* same layout as written */
	h.hidden = false;
	assert_int_equal(qcow2_header_encode(&h, e, CS), 0);
	assert_int_equal(decode(e, &h2), 0);
	assert_false(h2.hidden);
	assert_int_equal(h2.exts[1].data[1], 0x5a);
	assert_memory_equal(h2.exts[0].data, "\x01\x02\x03\x04\x05", 5);
	qcow2_header_free(&h2);
	snprintf(h.backing_file, sizeof h.backing_file, "%s", "other/name.qcow2");
	h.backing_fmt[0] = '\0';
	assert_int_equal(qcow2_header_encode(&h, e, CS), 0);
	assert_int_equal(decode(e, &h2), 0);
	assert_string_equal(h2.backing_file, "other/name.qcow2");
	assert_string_equal(h2.backing_fmt, "");
	qcow2_header_free(&h2);
	qcow2_header_free(&h);
}

static void test_hidden_added(void **state)
{
	uint8_t b[CS], e[CS];
	struct qcow2_header h, h2;

	(void)state;
	build(b);
	be32_put(b + 144, 0x11111111); /* the hidden extension becomes unknown */
	assert_int_equal(decode(b, &h), 0);
	assert_false(h.has_hidden_ext);
	assert_int_equal(qcow2_header_set_hidden(&h, true), 0);
	assert_int_equal(qcow2_header_encode(&h, e, CS), 0);
	assert_int_equal(decode(e, &h2), 0);
	assert_true(h2.hidden);
	assert_string_equal(h2.backing_file, "base.raw");
	qcow2_header_free(&h2);
	qcow2_header_free(&h);
}

static void test_v2(void **state)
{
	uint8_t b[CS];
	struct qcow2_header h;

	(void)state;
	memset(b, 0, CS);
	be32_put(b, QCOW2_MAGIC);
	be32_put(b + 4, 2);
	be32_put(b + 20, 12);
	be64_put(b + 24, 1 << 20);
	be32_put(b + 36, 1);
	be64_put(b + 40, 3 * CS);
	be64_put(b + 48, CS);
	be32_put(b + 56, 1);
	assert_int_equal(decode(b, &h), 0);
	assert_int_equal(h.refcount_order, 4);
	assert_int_equal(h.header_length, 72);
	qcow2_header_free(&h);
}

struct poke {
	const char *what;
	uint32_t off, size;
	uint64_t val;
	int errnum;
};

static const struct poke pokes[] = {
	{ "bad magic", 0, 4, 0x514649fa, EINVAL },
	{ "version 1", 4, 4, 1, ENOTSUP },
	{ "version 4", 4, 4, 4, ENOTSUP },
	{ "cluster_bits 8", 20, 4, 8, ENOTSUP },
	{ "cluster_bits 22", 20, 4, 22, ENOTSUP },
	{ "header_length 100", 100, 4, 100, EUCLEAN },
	{ "header_length not x8", 100, 4, 116, EUCLEAN },
	{ "header_length > cluster", 100, 4, CS + 8, EUCLEAN },
	{ "backing offset > cluster", 8, 8, CS + 1, EUCLEAN },
	{ "backing size 1024", 16, 4, 1024, EUCLEAN },
	{ "backing inside header", 8, 8, 64, EUCLEAN },
	{ "unknown incompatible bit", 72, 8, 1 << 5, ENOTSUP },
	{ "external data file", 72, 8, 1 << 2, ENOTSUP },
	{ "encryption", 32, 4, 1, ENOTSUP },
	{ "refcount_order 7", 96, 4, 7, EUCLEAN },
	{ "compression type without bit", 104, 1, 1, EUCLEAN },
	{ "compression bit with zlib", 72, 8, 1 << 3, EUCLEAN },
	{ "extended L2 with 4 KiB clusters", 72, 8, 1 << 4, EUCLEAN },
	{ "L1 unaligned", 40, 8, 3 * CS + 8, EUCLEAN },
	{ "L1 too small", 36, 4, 1, EUCLEAN },
	{ "L1 too large", 36, 4, 5u << 20, EUCLEAN },
	{ "L1 beyond the file", 40, 8, 64 * CS, EUCLEAN },
	{ "L1 at the header", 40, 8, 0, EUCLEAN },
	{ "reftable empty", 56, 4, 0, EUCLEAN },
	{ "reftable unaligned", 48, 8, CS + 512, EUCLEAN },
	{ "reftable over L1", 48, 8, 3 * CS, EUCLEAN },
	{ "reftable too large", 56, 4, 4096, EUCLEAN },
	{ "too many snapshots", 60, 4, 70000, EUCLEAN },
	{ "snapshots unaligned", 60, 4, 1, EUCLEAN },
	{ "extension too long", 132, 4, CS, EUCLEAN },
	{ "duplicate backing format", 128, 4, QCOW2_EXT_BACKING_FMT, EUCLEAN },
	{ "empty backing format", 116, 4, 0, EUCLEAN },
};

static void put(uint8_t *b, const struct poke *p)
{
	if (p->size == 1)
		b[p->off] = (uint8_t)p->val;
	else if (p->size == 4)
		be32_put(b + p->off, (uint32_t)p->val);
	else
		be64_put(b + p->off, p->val);
}

static void test_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
		uint8_t b[CS];
		struct qcow2_header h;

		build(b);
		put(b, &pokes[i]);
		if (!strcmp(pokes[i].what, "snapshots unaligned"))
			be64_put(b + 64, CS + 8);
		err_clear();
		if (decode(b, &h) == 0)
			fail_msg("accepted: %s", pokes[i].what);
		if (err_errnum() != pokes[i].errnum)
			fail_msg("%s: errno %d, want %d (%s)", pokes[i].what, err_errnum(),
				 pokes[i].errnum, err_last()->msg);
	}
}

static void test_truncated(void **state)
{
	uint8_t b[CS];
	struct qcow2_header h;

	(void)state;
	build(b);
	for (uint64_t len = 0; len < 176; len += 7) /* name ends at 176 */
		assert_int_equal(qcow2_header_decode(b, len, FILE_SIZE, &h), -1);
}

static void test_encode_overflow(void **state)
{
	uint8_t b[CS], e[512];
	struct qcow2_header h;

	(void)state;
	build(b);
	assert_int_equal(decode(b, &h), 0);
	h.cluster_bits = 9;
	memset(h.backing_file, 'x', 1000);
	h.backing_file[1000] = '\0';
	assert_int_equal(qcow2_header_encode(&h, e, 512), -1);
	assert_int_equal(err_errnum(), ENOSPC);
	qcow2_header_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hidden_added),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_encode_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
