/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The LVM store's names, which decide what it may ever touch: image
 * names, quarantine entries and SR strings; and which holders a prune
 * removes (on LVs that are not active, so no LVM command runs).
 * (Everything that needs a device-mapper runs in tests/vm.) */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

#define LV1 "n-11111111-4b5a-4987-8654-3210fedcba98"
#define LV2 "n-22222222-4b5a-4987-8654-3210fedcba98"

static char run_dir[64];

static void holder_put(const char *lv, const char *holder)
{
	char path[256];
	int fd;

	snprintf(path, sizeof path, "%s/lvm/lvqcow-" U "/%s", run_dir, lv);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/lvm/lvqcow-" U "/%s/%s", run_dir, lv, holder);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
}

static bool holder_there(const char *lv, const char *holder)
{
	char path[256];

	snprintf(path, sizeof path, "%s/lvm/lvqcow-" U "/%s/%s", run_dir, lv, holder);
	return access(path, F_OK) == 0;
}

struct asked {
	int n;
};

/* dp-gone is a leftover; every other lasting holder is still needed. */
static bool needed_but_gone(const char *holder, void *arg)
{
	((struct asked *)arg)->n++;
	return strcmp(holder, "dp-gone") != 0;
}

static void test_prune_judges_lasting_holders(void **state __attribute__((unused)))
{
	struct store *s = NULL;
	struct asked asked = { 0 };
	char vgdir[128], cmd[128];

	snprintf(run_dir, sizeof run_dir, "/tmp/lq-test-prune.XXXXXX");
	assert_non_null(mkdtemp(run_dir));
	setenv("LVQCOW_RUNDIR", run_dir, 1);
	snprintf(vgdir, sizeof vgdir, "%s/lvm", run_dir);
	assert_int_equal(mkdir(vgdir, 0700), 0);
	snprintf(vgdir, sizeof vgdir, "%s/lvm/lvqcow-" U, run_dir);
	assert_int_equal(mkdir(vgdir, 0700), 0);
	assert_int_equal(store_open("lvqcow", "/dev/lvqcow-" U, &s), 0);
	holder_put(LV1, "dp-gone");
	holder_put(LV1, "dp-live");
	holder_put(LV1, "c-999999999-1");   /* no such pid: dead */
	holder_put(LV2, "dp-gone");
	holder_put(LV2, "sr");

	/* No judge: only the dead process goes. */
	assert_int_equal(store_holders_prune(s, NULL, NULL), 0);
	assert_false(holder_there(LV1, "c-999999999-1"));
	assert_true(holder_there(LV1, "dp-gone"));
	assert_true(holder_there(LV2, "dp-gone"));

	assert_int_equal(store_holders_prune(s, needed_but_gone, &asked), 0);
	assert_int_equal(asked.n, 4);   /* each lasting holder of each LV */
	assert_false(holder_there(LV1, "dp-gone"));
	assert_false(holder_there(LV2, "dp-gone"));
	assert_true(holder_there(LV1, "dp-live"));
	assert_true(holder_there(LV2, "sr"));

	store_close(s);
	unsetenv("LVQCOW_RUNDIR");
	snprintf(cmd, sizeof cmd, "rm -rf %s", run_dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_names),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_prune_judges_lasting_holders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
