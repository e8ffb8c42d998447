/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SR interface of the volume plugins: one handler per call (their
 * names and schemas are rows of volume/entries.c). */
#include <json-c/json.h>
#include <stdlib.h>

#include "lq/err.h"
#include "lq/ops.h"
#include "lq/rpc.h"
#include "volume.h"

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
