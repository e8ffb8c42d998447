/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of util/utf8: the strict validator at every boundary of
 * the table of well-formed sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lq/utf8.h"

static bool ok(const char *s)
{
	return utf8_valid(s, strlen(s), NULL);
}

static void test_valid(void **state __attribute__((unused)))
{
	assert_true(ok(""));
	assert_true(ok("plain ascii \x7f"));
	assert_true(ok("\xc2\x80 \xdf\xbf"));                 /* U+0080, U+07FF */
	assert_true(ok("\xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf"));
	assert_true(ok("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf"));  /* U+10000, U+10FFFF */
	assert_int_equal(utf8_seq_len("\xe2\x82\xac", 3), 3);
}

static void test_invalid(void **state __attribute__((unused)))
{
	size_t bad = 99;

	assert_false(ok("\x80"));                             /* lone continuation */
	assert_false(ok("\xc0\x80"));                         /* overlong NUL */
	assert_false(ok("\xc1\xbf"));
	assert_false(ok("\xe0\x9f\xbf"));                     /* overlong 3-byte */
	assert_false(ok("\xed\xa0\x80"));                     /* surrogate */
	assert_false(ok("\xf0\x8f\xbf\xbf"));                 /* overlong 4-byte */
	assert_false(ok("\xf4\x90\x80\x80"));                 /* above U+10FFFF */
	assert_false(ok("\xf5\x80\x80\x80"));
	assert_false(ok("\xff"));
	assert_false(ok("\xe2\x82"));                         /* truncated */
	assert_false(ok("\xe2\x28\xa1"));                     /* bad continuation */
	assert_false(utf8_valid("ab\xc3", 3, &bad));
	assert_int_equal(bad, 2);
	assert_int_equal(utf8_seq_len("\xe2\x82\xac", 2), 0);
	assert_int_equal(utf8_seq_len("", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
