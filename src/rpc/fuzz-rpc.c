/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the parameter parser and schema check, fed anything
 * a hostile caller could put on stdin.  Whatever it accepts must print as
 * valid UTF-8. */
#include <assert.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lq/err.h"
#include "lq/rpc.h"
#include "lq/utf8.h"

static const struct rpc_field schema[] = {
	{ "dbg", RPC_STRING }, { "sr", RPC_STRING }, { "size", RPC_SIZE }, { "n", RPC_INT64 },
	{ "sharable", RPC_BOOL }, { "configuration", RPC_DICT }, { "o", RPC_OPT_STRING },
	{ NULL, 0 } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *p = NULL, *e;

	if (rpc_parse((const char *)data, size, &p) == 0) {
		const char *text = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);
		assert(text && utf8_valid(text, strlen(text), NULL));
		if (rpc_check(p, schema) == 0) {
			(void)rpc_str(p, "sr");
			(void)rpc_int64(p, "size");
			(void)rpc_bool(p, "sharable");
		}
		json_object_put(p);
	}
	e = rpc_error_json();
	json_object_put(e);
	return 0;
}
