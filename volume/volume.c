/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Volume interface of the volume plugins (see volume/sr.c). */
#include <json-c/json.h>

#include "lq/ops.h"
#include "lq/rpc.h"
#include "volume.h"

int vol_create(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_create(type, rpc_str(p, "sr"), rpc_str(p, "name"),
				 rpc_str(p, "description"), rpc_int64(p, "size"),
				 rpc_bool(p, "sharable"), result);
}

int vol_destroy(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_destroy(type, rpc_str(p, "sr"), rpc_str(p, "key"));
}

int vol_stat(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_stat(type, rpc_str(p, "sr"), rpc_str(p, "key"), result);
}

int vol_set(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_set(type, rpc_str(p, "sr"), rpc_str(p, "key"), rpc_str(p, "k"),
			      rpc_str(p, "v"));
}

int vol_unset(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_unset(type, rpc_str(p, "sr"), rpc_str(p, "key"), rpc_str(p, "k"));
}

int vol_set_name(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_set_name(type, rpc_str(p, "sr"), rpc_str(p, "key"),
				   rpc_str(p, "new_name"));
}

int vol_set_description(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_set_description(type, rpc_str(p, "sr"), rpc_str(p, "key"),
					  rpc_str(p, "new_description"));
}

int vol_snapshot(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_snapshot(type, rpc_str(p, "sr"), rpc_str(p, "key"), result);
}

int vol_clone(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_clone(type, rpc_str(p, "sr"), rpc_str(p, "key"), result);
}

int vol_resize(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_resize(type, rpc_str(p, "sr"), rpc_str(p, "key"),
				 rpc_int64(p, "new_size"));
}

int vol_compose(const char *type, struct json_object *p, struct json_object **result)
{
	return ops_volume_compose(type, rpc_str(p, "sr"), rpc_str(p, "key"), rpc_str(p, "key2"));
}
