/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for util/err: the record, and the first of several
 * failures kept across steps that all run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lq/err.h"

static void test_record(void **state __attribute__((unused)))
{
	assert_int_equal(err_set(ENOENT, "no %s", "such"), -1);
	assert_int_equal(err_errnum(), ENOENT);
	assert_string_equal(err_last()->msg, "no such");
	struct err_record saved = *err_last();
	err_set(EIO, "later");
	err_restore(&saved);
	assert_string_equal(err_last()->msg, "no such");
	err_clear();
	assert_string_equal(err_last()->msg, "");
}

static void test_first_kept(void **state __attribute__((unused)))
{
	struct err_first f = { 0 };

	err_set(EBUSY, "step 1 in use");
	err_first_note(&f);
	err_set(ENOENT, "step 2 gone");
	err_first_note(&f);
	err_set(EIO, "unrelated later");
	assert_int_equal(err_first_end(&f), -1);
	assert_string_equal(err_last()->msg, "step 1 in use");
	assert_int_equal(err_errnum(), EBUSY);
}

/* No step failed: success, and a failure a step recorded but got over
 * (an LV already gone counts as removed) does not linger. */
static void test_none_failed(void **state __attribute__((unused)))
{
	struct err_first f = { 0 };

	err_set(ENOENT, "recorded, then treated as done");
	assert_int_equal(err_first_end(&f), 0);
	assert_string_equal(err_last()->msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_first_kept),
		cmocka_unit_test(test_none_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
