/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of rpc: parameter parsing and checking, result shapes and
 * the error JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "lq/err.h"
#include "lq/rpc.h"
#include "lq/version.h"

static const struct rpc_field schema[] = {
	{ "dbg", RPC_STRING }, { "size", RPC_INT64 }, { "sharable", RPC_BOOL },
	{ "configuration", RPC_DICT }, { "opt", RPC_OPT_STRING }, { NULL, 0 } };

static struct json_object *parse_ok(const char *s)
{
	struct json_object *o = NULL;

	assert_int_equal(rpc_parse(s, strlen(s), &o), 0);
	return o;
}

static void parse_fails(const char *s, const char *code)
{
	struct json_object *o = NULL;

	err_clear();
	assert_int_equal(rpc_parse(s, strlen(s), &o), -1);
	assert_null(o);
	assert_string_equal(err_last()->code, code);
}

static void test_parse_malformed(void **state __attribute__((unused)))
{
	parse_fails("", XERR_UNMARSHAL);
	parse_fails("   \n", XERR_UNMARSHAL);
	parse_fails("{\"dbg\": ", XERR_UNMARSHAL);
	parse_fails("{\"dbg\": \"x\"} trailing", XERR_UNMARSHAL);
	parse_fails("[1, 2]", XERR_UNMARSHAL);
	parse_fails("\"just a string\"", XERR_UNMARSHAL);
	parse_fails("{\"a\": 1,}", XERR_UNMARSHAL);

	json_object_put(parse_ok("  {\"dbg\": \"x\"}\n"));
}

/* Strings must be UTF-8 wherever they are: values, names, dicts,
 * fields no schema names. */
static void test_parse_utf8(void **state __attribute__((unused)))
{
	parse_fails("{\"dbg\":\"a\xff\"}", XERR_INVALID);
	assert_non_null(strstr(err_last()->msg, "field 'dbg': invalid UTF-8 at byte 1"));
	parse_fails("{\"name\":\"\xc0\xaf\"}", XERR_INVALID);              /* overlong */
	parse_fails("{\"name\":\"\xed\xa0\x80\"}", XERR_INVALID);          /* surrogate */
	parse_fails("{\"name\":\"\xf4\x90\x80\x80\"}", XERR_INVALID);     /* > U+10FFFF */
	parse_fails("{\"name\":\"\xe2\x82\"}", XERR_INVALID);               /* truncated */
	parse_fails("{\"configuration\":{\"path\":\"/\x80\"}}", XERR_INVALID);
	parse_fails("{\"configuration\":{\"\xfe\":\"x\"}}", XERR_INVALID);
	parse_fails("{\"n\xff\":1}", XERR_INVALID);
	assert_non_null(strstr(err_last()->msg, "field name is not valid UTF-8"));
	parse_fails("{\"unknown\":[1,[\"\xff\"]]}", XERR_INVALID);
	json_object_put(parse_ok("{\"dbg\":\"\xc3\xbcn\xc3\xaf \xe2\x82\xac \xf0\x9f\x92\xbe\"}"));
	/* an escaped lone surrogate is decoded by json-c to U+FFFD */
	json_object_put(parse_ok("{\"dbg\":\"\\ud800\"}"));
}

static int64_t int_of(const char *s)
{
	struct json_object *o = parse_ok(s);
	int64_t v = json_object_get_int64(json_object_object_get(o, "size"));

	json_object_put(o);
	return v;
}

static const struct rpc_field size_schema[] = { { "size", RPC_SIZE }, { NULL, 0 } };
static const struct rpc_field int_schema[] = { { "n", RPC_INT64 }, { NULL, 0 } };

/* Parse and check s against schema; the error code, or "" on success. */
static const char *range_check(const char *s, const struct rpc_field *sch)
{
	struct json_object *o = NULL;
	int rc;

	err_clear();
	rc = rpc_parse(s, strlen(s), &o);
	if (rc == 0)
		rc = rpc_check(o, sch);
	json_object_put(o);
	return rc == 0 ? "" : err_last()->code;
}

/* Integers beyond int64 are refused, never saturated; a size as an
 * invalid size, naming what the caller sent. */
static void test_parse_int_range(void **state __attribute__((unused)))
{
	assert_true(int_of("{\"size\":9223372036854775807}") == INT64_MAX);
	assert_true(int_of("{\"size\":-9223372036854775808}") == INT64_MIN);
	assert_true(int_of("{\"size\":0, \"s\":\"99999999999999999999\\\"9\"}") == 0);
	assert_string_equal(range_check("{\"size\":-9223372036854775808}", size_schema), "");
	assert_string_equal(range_check("{\"size\":9223372036854775808}", size_schema),
			    XERR_INVALID_SIZE);
	assert_string_equal(err_last()->msg, "size 9223372036854775808 is out of range");
	assert_string_equal(range_check("{\"SIZE\":-9223372036854775809}", size_schema),
			    XERR_INVALID_SIZE);
	assert_string_equal(err_last()->msg, "size -9223372036854775809 is out of range");
	assert_string_equal(range_check("{\"\\u0073ize\":18446744073709551616}", size_schema),
			    XERR_INVALID_SIZE);
	assert_string_equal(range_check("{\"n\":18446744073709551615}", int_schema), XERR_UNMARSHAL);
	assert_non_null(strstr(err_last()->msg, "thing=n ty=int64 desc=18446744073709551615 is out of range"));
	assert_string_equal(range_check("{\"n\":-99999999999999999999999999999999999999999999999}",
					int_schema), XERR_UNMARSHAL);
	assert_non_null(strstr(err_last()->msg, "desc=-999999999999999999999999999999999999999... is"));
	/* an unknown field is ignored, whatever it holds */
	assert_string_equal(range_check("{\"n\":1,\"other\":1e999999,\"x\":99999999999999999999}",
					int_schema), "");
	/* nested: refused at once */
	parse_fails("{\"x\":[1,{\"y\":123456789012345678901234567890123}]}", XERR_UNMARSHAL);
	assert_non_null(strstr(err_last()->msg, "integer 123456789012345678901234567890123 out of range"));
	/* not integers: json-c keeps them as doubles, the schema refuses them */
	json_object_put(parse_ok("{\"size\":1e30, \"b\":-1.5E+3}"));
}

/* A NUL after the object is not whitespace. */
static void test_parse_nul(void **state __attribute__((unused)))
{
	static const char nul[] = "{\"a\": 1}\0\0";
	struct json_object *o = NULL;

	err_clear();
	assert_int_equal(rpc_parse(nul, sizeof nul - 1, &o), -1);
	assert_string_equal(err_last()->code, XERR_UNMARSHAL);
}

static int check(const char *s)
{
	struct json_object *o = parse_ok(s);
	int rc;

	err_clear();
	rc = rpc_check(o, schema);
	json_object_put(o);
	return rc;
}

static void test_check_types(void **state __attribute__((unused)))
{
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":5,\"sharable\":true,\"configuration\":{\"a\":\"b\"}}"), 0);
	/* case-insensitive names, unknown fields ignored */
	assert_int_equal(check("{\"DBG\":\"d\",\"Size\":5,\"sharable\":false,\"configuration\":{},\"x\":[1]}"), 0);
	assert_int_equal(check("{\"dbg\":\"d\",\"sharable\":true,\"configuration\":{}}"), -1);
	assert_string_equal(err_last()->code, XERR_UNMARSHAL);
	assert_non_null(strstr(err_last()->msg, "ty=size"));
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":\"5\",\"sharable\":true,\"configuration\":{}}"), -1);
	assert_string_equal(err_last()->code, XERR_TYPE);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1.5,\"sharable\":true,\"configuration\":{}}"), -1);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1,\"sharable\":1,\"configuration\":{}}"), -1);
	assert_int_equal(check("{\"dbg\":null,\"size\":1,\"sharable\":true,\"configuration\":{}}"), -1);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1,\"sharable\":true,\"configuration\":{\"a\":1}}"), -1);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1,\"sharable\":true,\"configuration\":[]}"), -1);
	/* embedded NUL is refused rather than silently truncated */
	assert_int_equal(check("{\"dbg\":\"a\\u0000b\",\"size\":1,\"sharable\":true,\"configuration\":{}}"), -1);
	assert_string_equal(err_last()->code, XERR_TYPE);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1,\"sharable\":true,\"configuration\":{},\"opt\":2}"), -1);
}

static void test_getters(void **state __attribute__((unused)))
{
	struct json_object *o = parse_ok("{\"Dbg\":\"d\",\"size\":-7,\"sharable\":true,\"configuration\":{}}");

	assert_int_equal(rpc_check(o, schema), 0);
	assert_string_equal(rpc_str(o, "dbg"), "d");
	assert_int_equal(rpc_int64(o, "size"), -7);
	assert_true(rpc_bool(o, "sharable"));
	assert_null(rpc_str(o, "opt"));
	json_object_put(o);
}

static void test_volume_shape(void **state __attribute__((unused)))
{
	const char *uri[] = { "lvqcow://fileqcow/sr/k" };
	struct rpc_kv keys[] = { { "a", "1" } };
	struct rpc_volume v = { "k", "k", "n", "d", true, false, 1024, 512, uri, 1, keys, 1 };
	struct json_object *o = rpc_volume_json(&v);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	assert_string_equal(s, "{\"key\":\"k\",\"uuid\":\"k\",\"name\":\"n\",\"description\":\"d\","
			       "\"read_write\":true,\"sharable\":false,\"virtual_size\":1024,"
			       "\"physical_utilisation\":512,\"uri\":[\"lvqcow:\\/\\/fileqcow\\/sr\\/k\"],"
			       "\"keys\":{\"a\":\"1\"}}");
	json_object_put(o);
}

static void test_sr_stat_and_probe(void **state __attribute__((unused)))
{
	struct rpc_sr_stat st = { "/sr", "n", "u", "d", 1, 2, false };
	struct rpc_kv cfg[] = { { "path", "/sr" } };
	struct json_object *o = rpc_sr_stat_json(&st);

	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"sr\":\"\\/sr\",\"name\":\"n\",\"uuid\":\"u\",\"description\":\"d\","
			    "\"free_space\":1,\"total_space\":2,\"datasources\":[],\"clustered\":false,"
			    "\"health\":[\"Healthy\",\"\"]}");
	json_object_put(o);
	o = rpc_probe_json(cfg, 1, true, NULL);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"configuration\":{\"path\":\"\\/sr\"},\"complete\":true,\"extra_info\":{}}");
	json_object_put(o);
}

/* The shared Plugin.query fields come from lq/version.h, whichever
 * plugin asks. */
static void test_query_shape(void **state __attribute__((unused)))
{
	const char *feat[] = { "SR_CREATE" };
	struct rpc_query q = { .plugin = "p", .name = "n", .description = "d",
			       .features = feat, .nfeatures = 1 };
	struct json_object *o = rpc_query_json(&q);

	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"plugin\":\"p\",\"name\":\"n\",\"description\":\"d\","
			    "\"vendor\":\"" LVQCOW_VENDOR "\",\"copyright\":\"" LVQCOW_COPYRIGHT "\","
			    "\"version\":\"" LVQCOW_VERSION "\",\"required_api_version\":\"5.0\","
			    "\"features\":[\"SR_CREATE\"],\"configuration\":{},"
			    "\"required_cluster_stack\":[]}");
	json_object_put(o);
}

/* Output is valid UTF-8 even when a stored string is not. */
static void test_print_utf8(void **state __attribute__((unused)))
{
	char buf[64] = "";
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(rpc_print(f, json_object_new_string("a\xff\xc3\xbc\xe2\x82")), 0);
	rewind(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "\"a\\ufffd\xc3\xbc\\ufffd\\ufffd\"\n");
}

static const char *error_json(void)
{
	static char buf[2048];
	struct json_object *o = rpc_error_json();

	snprintf(buf, sizeof buf, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return buf;
}

static void test_error_json(void **state __attribute__((unused)))
{
	err_clear();
	err_xapi(XERR_VOL_NOT_EXIST, "abc");
	assert_non_null(strstr(error_json(), "{\"code\":\"SR_BACKEND_FAILURE\","
					     "\"params\":[\"Volume_does_not_exist\",\"abc\"],"
					     "\"backtrace\":{\"error\":\"abc\",\"files\":["));
	err_xapi(XERR_INVALID_SIZE, "too big");
	assert_non_null(strstr(error_json(), "{\"code\":\"SR_BACKEND_FAILURE_79\","
					     "\"params\":[\"VDI Invalid size\",\"too big\"]"));
	err_xapi(XERR_SR_NOT_EMPTY, "2 volumes");
	assert_non_null(strstr(error_json(), "{\"code\":\"SR_NOT_EMPTY\",\"params\":[]"));
	err_set(EIO, "disk on fire");
	assert_non_null(strstr(error_json(), "\"params\":[\"Internal_error\",\"disk on fire\"]"));
	err_corrupt("torn");
	assert_non_null(strstr(error_json(), "\"params\":[\"Metadata_corrupt\",\"torn\"]"));
}

/* ---- the command-line form ---- */

static const struct rpc_field cli_schema[] = {
	{ "dbg", RPC_STRING }, { "sr", RPC_STRING }, { "configuration", RPC_DICT },
	{ "size", RPC_SIZE }, { "n", RPC_INT64 }, { "sharable", RPC_BOOL }, { NULL, 0 } };

/* words: NULL-terminated; returns the object as compact JSON text, or
 * NULL with the error recorded. */
static const char *cli_json(const char *const *words)
{
	static char buf[1024];
	struct json_object *o = NULL;
	int n = 0;

	while (words[n])
		n++;
	err_clear();
	if (rpc_parse_argv(n, (char *const *)words, cli_schema, &o) < 0) {
		assert_null(o);
		return NULL;
	}
	snprintf(buf, sizeof buf, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	if (rpc_check(o, cli_schema) < 0)
		snprintf(buf, sizeof buf, "check: %s", err_last()->code);
	json_object_put(o);
	return buf;
}

#define WORDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void cli_fails(const char *const *words, const char *code, const char *text)
{
	assert_null(cli_json(words));
	assert_string_equal(err_last()->code, code);
	assert_non_null(strstr(err_last()->msg, text));
}

static void test_argv_form(void **state __attribute__((unused)))
{
	assert_string_equal(cli_json(WORDS("d", "s", "12", "-3", "TRUE")),
			    "{\"configuration\":{},\"dbg\":\"d\",\"sr\":\"s\",\"size\":12,"
			    "\"n\":-3,\"sharable\":true}");
	/* Options anywhere; "--" ends them. */
	assert_string_equal(cli_json(WORDS("d", "--configuration", "k", "v", "--", "-s", "+1",
					   "0", "false")),
			    "{\"configuration\":{\"k\":\"v\"},\"dbg\":\"d\",\"sr\":\"-s\","
			    "\"size\":1,\"n\":0,\"sharable\":false}");
	assert_string_equal(cli_json(WORDS("d", "s", "--configuration", "a", "1", "1", "2",
					   "--configuration", "b", "", "faLSE")),
			    "{\"configuration\":{\"a\":\"1\",\"b\":\"\"},\"dbg\":\"d\","
			    "\"sr\":\"s\",\"size\":1,\"n\":2,\"sharable\":false}");
	/* Missing arguments are found by the schema check, as in --json. */
	assert_string_equal(cli_json(WORDS("d", "s")), "check: " XERR_UNMARSHAL);
}

static void test_argv_hostile(void **state __attribute__((unused)))
{
	cli_fails(WORDS("d", "s", "1", "2", "true", "x"), XERR_UNMARSHAL, "unexpected argument");
	cli_fails(WORDS("d", "-s"), XERR_UNMARSHAL, "unknown option '-s'");
	cli_fails(WORDS("d", "--conf", "k", "v"), XERR_UNMARSHAL, "unknown option");
	cli_fails(WORDS("d", "--sr", "k", "v"), XERR_UNMARSHAL, "unknown option");
	cli_fails(WORDS("d", "--configuration", "k"), XERR_UNMARSHAL, "takes a key and a value");
	cli_fails(WORDS("d", "--configuration", "k", "1", "--configuration", "k", "2"),
		  XERR_INVALID, "given twice");
	cli_fails(WORDS("d", "s", "1x"), XERR_TYPE, "expected=int64");
	cli_fails(WORDS("d", "s", ""), XERR_TYPE, "expected=int64");
	cli_fails(WORDS("d", "s", "-"), XERR_TYPE, "expected=int64");
	cli_fails(WORDS("d", "s", "0x10"), XERR_TYPE, "expected=int64");
	cli_fails(WORDS("d", "s", "9223372036854775808"), XERR_INVALID_SIZE, "out of range");
	cli_fails(WORDS("d", "s", "1", "-9223372036854775809"), XERR_UNMARSHAL, "out of range");
	cli_fails(WORDS("d", "s", "1", "2", "1"), XERR_TYPE, "expected=bool");
	cli_fails(WORDS("d", "s", "1", "2", "null"), XERR_TYPE, "expected=bool");
	cli_fails(WORDS("d\xff"), XERR_INVALID, "invalid UTF-8");
	cli_fails(WORDS("d", "--configuration", "\xc0\xaf", "v"), XERR_INVALID, "UTF-8");
	assert_non_null(cli_json(WORDS("d", "s", "9223372036854775807", "-9223372036854775808")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_utf8),
		cmocka_unit_test(test_parse_nul),
		cmocka_unit_test(test_parse_int_range),
		cmocka_unit_test(test_check_types),
		cmocka_unit_test(test_print_utf8),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_volume_shape),
		cmocka_unit_test(test_sr_stat_and_probe),
		cmocka_unit_test(test_query_shape),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_argv_form),
		cmocka_unit_test(test_argv_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
