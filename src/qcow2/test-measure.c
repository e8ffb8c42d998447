/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-measure: qcow2_measure against figures qemu-img measure printed
 * (qemu 7.2), and its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lq/qcow2.h"

struct known {
	uint64_t size;
	uint32_t cs;
	int refcount_bits;
	bool extl2;
	uint64_t required, fully;
};

static const struct known table[] = {
	{ 1ull << 30, 65536, 16, false, 393216, 1074135040 },
	{ 100ull << 30, 65536, 16, false, 16646144, 107390828544 },
	{ 100ull << 30, 2u << 20, 16, false, 10485760, 107384668160 },
	{ 2040ull << 30, 65536, 16, false, 334495744, 2190767816704 },
	{ 16ull << 40, 65536, 16, false, 2684944384, 17594870988800 },
	{ 16ull << 40, 2u << 20, 16, false, 92274688, 17592278319104 },
	{ 100ull << 30, 65536, 16, true, 29753344, 107403935744 },
	{ 100ull << 30, 65536, 64, false, 26476544, 107400658944 },
};

static void known_sizes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		struct qcow2_measure m;
		const struct known *k = &table[i];
		assert_int_equal(qcow2_measure(k->size, k->cs, k->refcount_bits, k->extl2, &m), 0);
		assert_int_equal(m.required, k->required);
		assert_int_equal(m.fully_allocated, k->fully);
	}
}

static void defaults(void **state)
{
	struct qcow2_measure a, b;

	(void)state;
	assert_int_equal(qcow2_measure(1ull << 30, 0, 0, false, &a), 0);
	assert_int_equal(qcow2_measure(1ull << 30, 65536, 16, false, &b), 0);
	assert_int_equal(a.required, b.required);
	assert_int_equal(a.fully_allocated, b.fully_allocated);
}

static void refusals(void **state)
{
	struct qcow2_measure m;

	(void)state;
	assert_int_equal(qcow2_measure(16ull << 40, 512, 16, false, &m), -1);
	assert_int_equal(qcow2_measure(1 << 20, 1000, 16, false, &m), -1);
	assert_int_equal(qcow2_measure(1 << 20, 4u << 20, 16, false, &m), -1);
	assert_int_equal(qcow2_measure(1 << 20, 65536, 3, false, &m), -1);
	assert_int_equal(qcow2_measure(1 << 20, 65536, 128, false, &m), -1);
	assert_int_equal(qcow2_measure(1 << 20, 4096, 16, true, &m), -1);
	assert_int_equal(qcow2_measure(UINT64_MAX, 65536, 16, false, &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_sizes),
		cmocka_unit_test(defaults),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
