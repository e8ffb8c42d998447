/* libFuzzer target: the parameter parser and schema check, fed anything
 * a hostile caller could put on stdin. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "lq/err.h"
#include "lq/rpc.h"

static const struct rpc_field schema[] = {
	{ "dbg", RPC_STRING }, { "sr", RPC_STRING }, { "size", RPC_INT64 },
	{ "sharable", RPC_BOOL }, { "configuration", RPC_DICT }, { "o", RPC_OPT_STRING },
	{ NULL, 0 } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *p = NULL, *e;

	if (rpc_parse((const char *)data, size, &p) == 0) {
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
