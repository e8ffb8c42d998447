/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of pure entry logic: refcount packing for every width
 * (1..64 bits, sub-byte entries LSB first, wider ones big-endian) against
 * a naive model, and L2 entry classification, extended L2 included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2-int.h"

#define BLOCK 512

static uint64_t mask_of(unsigned order)
{
	return order == 6 ? UINT64_MAX : (1ull << (1u << order)) - 1;
}

static void test_rc_model(void **state)
{
	(void)state;
	srand(7);
	for (unsigned order = 0; order <= 6; order++) {
		uint64_t n = BLOCK * 8 >> order, model[BLOCK * 8];
		uint8_t b[BLOCK];

		memset(b, 0, sizeof b);
		memset(model, 0, sizeof model);
		for (int k = 0; k < 20000; k++) {
			uint64_t i = (uint64_t)rand() % n;
			uint64_t v = ((uint64_t)rand() << 33 ^ (uint64_t)rand() << 7 ^ (uint64_t)rand()) &
				     mask_of(order);

			qcow2_rc_put_bits(b, i, order, v);
			model[i] = v;
		}
		for (uint64_t i = 0; i < n; i++)
			assert_int_equal(qcow2_rc_get_bits(b, i, order), model[i]);
	}
}

static void test_rc_layout(void **state)
{
	uint8_t b[16];

	(void)state;
	memset(b, 0, sizeof b);
	qcow2_rc_put_bits(b, 0, 0, 1);
	qcow2_rc_put_bits(b, 3, 0, 1);
	assert_int_equal(b[0], 0x09);        /* bit i of byte 0 is entry i */
	memset(b, 0, sizeof b);
	qcow2_rc_put_bits(b, 1, 2, 0xa);
	assert_int_equal(b[0], 0xa0);        /* 4-bit entries: entry 1 is the high nibble */
	memset(b, 0, sizeof b);
	qcow2_rc_put_bits(b, 1, 4, 0x1234);
	assert_int_equal(b[2], 0x12);        /* 16-bit entries are big-endian */
	assert_int_equal(b[3], 0x34);
	qcow2_rc_put_bits(b, 1, 6, 0x0102030405060708ull);
	assert_int_equal(b[8], 0x01);
	assert_int_equal(b[15], 0x08);
}

static struct qcow2_image img16, imgx;

static int setup(void **state)
{
	(void)state;
	img16.cbits = 16;
	img16.cs = 1u << 16;
	imgx = img16;
	imgx.extl2 = true;
	return 0;
}

struct l2case {
	const struct qcow2_image *img;
	uint64_t e, bitmap;
	unsigned sc;
	enum qcow2_ctype want;
	uint64_t host;
};

static void test_classify(void **state)
{
	const uint64_t C = QCOW2_OFLAG_COPIED, Z = QCOW2_OFLAG_ZERO, X = QCOW2_OFLAG_COMPRESSED;
	const struct l2case cases[] = {
		{ &img16, 0, 0, 0, QCOW2_C_UNALLOCATED, 0 },
		{ &img16, C | 0x30000, 0, 0, QCOW2_C_NORMAL, 0x30000 },
		{ &img16, 0x30000, 0, 0, QCOW2_C_NORMAL, 0x30000 },
		{ &img16, Z, 0, 0, QCOW2_C_ZERO_PLAIN, 0 },
		{ &img16, C | Z | 0x50000, 0, 0, QCOW2_C_ZERO_ALLOC, 0x50000 },
		{ &img16, X | 0x12345, 0, 0, QCOW2_C_COMPRESSED, 0 },
		{ &img16, X | C | 0x12345, 0, 0, QCOW2_C_INVALID, 0 },
		{ &img16, C | 0x30200, 0, 0, QCOW2_C_INVALID, 0 },          /* unaligned */
		{ &img16, C | 0x30000 | 2, 0, 0, QCOW2_C_INVALID, 0 },      /* reserved bit 1 */
		{ &img16, C | 0x30000 | (1ull << 57), 0, 0, QCOW2_C_INVALID, 0 },
		{ &imgx, 0x40000, 1u << 3, 3, QCOW2_C_NORMAL, 0x40000 + 3 * 2048 },
		{ &imgx, 0x40000, 1u << 3, 4, QCOW2_C_UNALLOCATED, 0 },
		{ &imgx, 0x40000, 1ull << 36, 4, QCOW2_C_ZERO_ALLOC, 0x40000 + 4 * 2048 },
		{ &imgx, 0, 1ull << 36, 4, QCOW2_C_ZERO_PLAIN, 0 },
		{ &imgx, 0, 1u << 4, 4, QCOW2_C_INVALID, 0 },               /* alloc, no offset */
		{ &imgx, 0x40000, 1ull << 36 | 1u << 4, 4, QCOW2_C_INVALID, 0 },
		{ &imgx, Z, 0, 0, QCOW2_C_UNALLOCATED, 0 },                  /* bit 0 unused */
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t host = 0;
		enum qcow2_ctype t = qcow2_l2_classify(cases[i].img, cases[i].e, cases[i].bitmap,
						       cases[i].sc, &host);

		if (t != cases[i].want)
			fail_msg("case %zu: type %d, want %d", i, t, cases[i].want);
		if ((t == QCOW2_C_NORMAL || t == QCOW2_C_ZERO_ALLOC) && host != cases[i].host)
			fail_msg("case %zu: host 0x%llx", i, (unsigned long long)host);
	}
}

/* The write-back range of a table: empty, then grown on either side. */
static void test_dirty_widen(void **state)
{
	uint64_t lo = 0, hi = 0;

	(void)state;
	qcow2_dirty_widen(&lo, &hi, 7);
	assert_true(lo == 7 && hi == 8);
	qcow2_dirty_widen(&lo, &hi, 3);
	assert_true(lo == 3 && hi == 8);
	qcow2_dirty_widen(&lo, &hi, 5);
	assert_true(lo == 3 && hi == 8);
	qcow2_dirty_widen(&lo, &hi, 20);
	assert_true(lo == 3 && hi == 21);
	lo = hi = 0;                      /* written back: empty again */
	qcow2_dirty_widen(&lo, &hi, 0);
	assert_true(lo == 0 && hi == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rc_model),
		cmocka_unit_test(test_rc_layout),
		cmocka_unit_test_setup(test_classify, setup),
		cmocka_unit_test(test_dirty_widen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
