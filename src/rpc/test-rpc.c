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
	parse_fails("", RPC_E_UNMARSHAL);
	parse_fails("   \n", RPC_E_UNMARSHAL);
	parse_fails("{\"dbg\": ", RPC_E_UNMARSHAL);
	parse_fails("{\"dbg\": \"x\"} trailing", RPC_E_UNMARSHAL);
	parse_fails("[1, 2]", RPC_E_UNMARSHAL);
	parse_fails("\"just a string\"", RPC_E_UNMARSHAL);
	parse_fails("{\"a\": 1,}", RPC_E_UNMARSHAL);
	json_object_put(parse_ok("  {\"dbg\": \"x\"}\n"));
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
	assert_string_equal(err_last()->code, RPC_E_UNMARSHAL);
	assert_non_null(strstr(err_last()->msg, "ty=size"));
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":\"5\",\"sharable\":true,\"configuration\":{}}"), -1);
	assert_string_equal(err_last()->code, RPC_E_TYPE);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1.5,\"sharable\":true,\"configuration\":{}}"), -1);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1,\"sharable\":1,\"configuration\":{}}"), -1);
	assert_int_equal(check("{\"dbg\":null,\"size\":1,\"sharable\":true,\"configuration\":{}}"), -1);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1,\"sharable\":true,\"configuration\":{\"a\":1}}"), -1);
	assert_int_equal(check("{\"dbg\":\"d\",\"size\":1,\"sharable\":true,\"configuration\":[]}"), -1);
	/* embedded NUL is refused rather than silently truncated */
	assert_int_equal(check("{\"dbg\":\"a\\u0000b\",\"size\":1,\"sharable\":true,\"configuration\":{}}"), -1);
	assert_string_equal(err_last()->code, RPC_E_TYPE);
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
	err_xapi(RPC_E_VOL_NOT_EXIST, "abc");
	assert_non_null(strstr(error_json(), "{\"code\":\"SR_BACKEND_FAILURE\","
					     "\"params\":[\"Volume_does_not_exist\",\"abc\"],"
					     "\"backtrace\":{\"error\":\"abc\",\"files\":["));
	err_xapi(RPC_E_INVALID_SIZE, "too big");
	assert_non_null(strstr(error_json(), "{\"code\":\"SR_BACKEND_FAILURE_79\","
					     "\"params\":[\"VDI Invalid size\",\"too big\"]"));
	err_xapi(RPC_E_SR_NOT_EMPTY, "2 volumes");
	assert_non_null(strstr(error_json(), "{\"code\":\"SR_NOT_EMPTY\",\"params\":[]"));
	err_set(EIO, "disk on fire");
	assert_non_null(strstr(error_json(), "\"params\":[\"Internal_error\",\"disk on fire\"]"));
	err_corrupt("torn");
	assert_non_null(strstr(error_json(), "\"params\":[\"Metadata_corrupt\",\"torn\"]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_check_types),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_volume_shape),
		cmocka_unit_test(test_sr_stat_and_probe),
		cmocka_unit_test(test_query_shape),
		cmocka_unit_test(test_error_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
