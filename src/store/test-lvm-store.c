/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The LVM store's names, which decide what it may ever touch: image
 * names, quarantine entries and SR strings.  (Everything that needs a
 * device-mapper runs in tests/vm.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lq/store.h"
#include "lvst-int.h"

#define U "0f1e2d3c-4b5a-4987-8654-3210fedcba98"

static void test_image_names(void **state __attribute__((unused)))
{
	assert_true(lvst_image_name_ok("n-" U));
	assert_false(lvst_image_name_ok("n-0F1E2D3C-4B5A-4987-8654-3210FEDCBA98"));
	assert_false(lvst_image_name_ok("n-" U "x"));
	assert_false(lvst_image_name_ok(U));
	assert_false(lvst_image_name_ok("sr-meta"));
	assert_false(lvst_image_name_ok("q-1-n-" U));
	assert_false(lvst_image_name_ok("n-"));
	assert_false(lvst_image_name_ok(""));
}

static void test_entries(void **state __attribute__((unused)))
{
	char image[128];
	time_t since = 0;

	assert_true(lvst_entry_parse("q-1700000000-n-" U, image, sizeof image, &since));
	assert_string_equal(image, "n-" U);
	assert_int_equal(since, 1700000000);
	assert_false(lvst_entry_parse("q--n-" U, image, sizeof image, &since));
	assert_false(lvst_entry_parse("q-12a-n-" U, image, sizeof image, &since));
	assert_false(lvst_entry_parse("q-1234567890123456789-n-" U, image, sizeof image, &since));
	assert_false(lvst_entry_parse("q-1-" U, image, sizeof image, &since));
	assert_false(lvst_entry_parse("x-1-n-" U, image, sizeof image, &since));
	assert_false(lvst_entry_parse("q-1-n-" U, image, 8, &since));
}

static void test_roots(void **state __attribute__((unused)))
{
	struct store *s = NULL;

	assert_int_equal(store_open("lvqcow", "/dev/lvqcow-" U, &s), 0);
	assert_string_equal(lvst_of(s)->vg, "lvqcow-" U);
	assert_true(store_sizes_images(s));
	store_close(s);
	assert_string_equal(store_type_of_root("/dev/lvqcow-" U), "lvqcow");
	static const char *const bad[] = {
		"lvqcow-" U, "/dev/vg0", "/dev/lvqcow-" U "/x", "/dev/lvqcow-0F1E2D3C-4B5A-4987-8654-3210FEDCBA98",
		"/dev/lvqcow-", "/srv/sr", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = NULL;
		assert_int_equal(store_open("lvqcow", bad[i], &s), -1);
		assert_null(s);
		/* Not an lvqcow string: the type without a form of its own. */
		assert_string_equal(store_type_of_root(bad[i]), "fileqcow");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_names),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_roots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
