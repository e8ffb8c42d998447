/* The SR interface of the volume plugins: one handler per call, each
 * with the schema of its parameters (names and JSON types of the IDL,
 * xen-api ocaml/xapi-storage/generator/lib/control.ml). */
#include <json-c/json.h>
#include <stdlib.h>

#include "lq/err.h"
#include "lq/ops.h"
#include "lq/rpc.h"
#include "volume.h"

const struct rpc_field sr_probe_schema[] = {
	{ "dbg", RPC_STRING }, { "configuration", RPC_DICT }, { NULL, 0 } };
const struct rpc_field sr_create_schema[] = {
	{ "dbg", RPC_STRING }, { "uuid", RPC_STRING }, { "configuration", RPC_DICT },
	{ "name", RPC_STRING }, { "description", RPC_STRING }, { NULL, 0 } };
const struct rpc_field sr_attach_schema[] = {
	{ "dbg", RPC_STRING }, { "configuration", RPC_DICT }, { NULL, 0 } };
const struct rpc_field sr_only_schema[] = {
	{ "dbg", RPC_STRING }, { "sr", RPC_STRING }, { NULL, 0 } };
const struct rpc_field sr_set_name_schema[] = {
	{ "dbg", RPC_STRING }, { "sr", RPC_STRING }, { "new_name", RPC_STRING }, { NULL, 0 } };
const struct rpc_field sr_set_description_schema[] = {
	{ "dbg", RPC_STRING }, { "sr", RPC_STRING }, { "new_description", RPC_STRING }, { NULL, 0 } };

int sr_probe(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_probe(type, rpc_field(p, "configuration"), result);
}

int sr_create(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_create(type, rpc_str(p, "uuid"), rpc_field(p, "configuration"),
			     rpc_str(p, "name"), rpc_str(p, "description"), result);
}

int sr_attach(const char *type, struct json_object *p, struct json_object **result)
{
	char *sr = NULL;

	if (ops_sr_attach(type, rpc_field(p, "configuration"), &sr) < 0)
		return -1;
	*result = json_object_new_string(sr);
	free(sr);
	return *result ? 0 : err_set(ENOMEM, "out of memory");
}

int sr_detach(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_detach(type, rpc_str(p, "sr"));
}

int sr_destroy(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_destroy(type, rpc_str(p, "sr"));
}

int sr_stat(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_stat(type, rpc_str(p, "sr"), result);
}

int sr_ls(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_ls(type, rpc_str(p, "sr"), result);
}

int sr_set_name(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_set_name(type, rpc_str(p, "sr"), rpc_str(p, "new_name"));
}

int sr_set_description(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_sr_set_description(type, rpc_str(p, "sr"), rpc_str(p, "new_description"));
}
