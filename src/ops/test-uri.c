/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the volume URI (ops/uri.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/ops.h"

#define UNUSED __attribute__((unused))

static void round_trip(const char *type, const char *sr, const char *key, const char *expect)
{
	struct ops_uri u;
	char *s = NULL;

	assert_int_equal(ops_uri_format(type, sr, key, &s), 0);
	if (expect)
		assert_string_equal(s, expect);
	assert_int_equal(ops_uri_parse(s, &u), 0);
	assert_string_equal(u.type, type);
	assert_string_equal(u.sr, sr);
	assert_string_equal(u.key, key);
	ops_uri_clear(&u);
	free(s);
}

static void test_format(void **s UNUSED)
{
	round_trip("fileqcow", "/srv/sr1", "5f0c1d2e-0000-4000-8000-000000000001",
		   "lvqcow://fileqcow/srv/sr1/5f0c1d2e-0000-4000-8000-000000000001");
	round_trip("fileqcow", "/a b/%/c?d#e", "k", "lvqcow://fileqcow/a%20b/%25/c%3Fd%23e/k");
	round_trip("lvqcow", "/VG_XenStorage-x", "a/b", "lvqcow://lvqcow/VG_XenStorage-x/a%2Fb");
	round_trip("fileqcow", "/caf\xc3\xa9/\x01", "~k.-_", NULL);
}

static void bad(const char *uri)
{
	struct ops_uri u;

	err_clear();
	assert_int_equal(ops_uri_parse(uri, &u), -1);
	assert_null(u.sr);
	assert_null(u.key);
	assert_true(err_last()->msg[0] != '\0');
}

static void test_parse_hostile(void **s UNUSED)
{
	bad("");
	bad("lvqcow:");
	bad("lvqcow://");
	bad("file:///srv/sr1/k");
	bad("lvqcow:/fileqcow/srv/k");
	bad("lvqcow://fileqcow");
	bad("lvqcow://fileqcow/");
	bad("lvqcow://fileqcow/k");
	bad("lvqcow://fileqcow/srv/");
	bad("lvqcow://FILE/srv/k");
	bad("lvqcow://fileqcow/srv/k%00x");
	bad("lvqcow://fileqcow/srv%2/k");
	bad("lvqcow://fileqcow/srv/k%zz");
	bad("lvqcow://a_very_long_sr_type_name_over_32_bytes/srv/k");
}

static void test_format_refuses(void **s UNUSED)
{
	char *out = NULL;

	assert_int_equal(ops_uri_format("fileqcow", "relative", "k", &out), -1);
	assert_int_equal(ops_uri_format("Bad Type", "/sr", "k", &out), -1);
	assert_int_equal(ops_uri_format("fileqcow", "/sr", "", &out), -1);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_format_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
