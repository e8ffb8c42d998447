/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Datapath calls and the datapath plugin's Plugin calls: call ops
 * with the checked parameters, build the IDL result (names and schemas
 * are rows of datapath/entries.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "lq/datapath.h"
#include "lq/entry.h"
#include "lq/err.h"
#include "lq/rpc.h"
#include "calls.h"

int dp_query(const char *plugin, struct json_object *params, struct json_object **result)
{
	const char *features[ENTRY_MAX_FEATURES];
	struct rpc_query q = {
		.plugin = plugin,
		.name = "lvqcow NBD datapath",
		.description = "Serves lvqcow volumes (qcow2 chains) over NBD on a local "
			       "UNIX socket, one server process per attached volume",
		.features = features,
		.nfeatures = entry_features(ENTRY_DATAPATH, features),
	};

	*result = rpc_query_json(&q);
	return *result ? 0 : err_set(ENOMEM, "out of memory");
}

int dp_diagnostics(const char *plugin, struct json_object *params, struct json_object **result)
{
	char *text;

	if (ops_datapath_diagnostics(&text) < 0)
		return -1;
	*result = json_object_new_string(text);
	free(text);
	return *result ? 0 : err_set(ENOMEM, "out of memory");
}

int dp_open(const char *plugin, struct json_object *params, struct json_object **result)
{
	return ops_datapath_open(rpc_str(params, "uri"), rpc_bool(params, "persistent"));
}

static struct json_object *implementation(const char *tag, struct json_object *body)
{
	struct json_object *a = json_object_new_array();

	json_object_array_add(a, json_object_new_string(tag));
	json_object_array_add(a, body);
	return a;
}

static void add_impl(struct json_object *impls, const char *tag, struct json_object *body)
{
	json_object_array_add(impls, implementation(tag, body));
}

static struct json_object *str_object(const char *key, const char *value)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, key, json_object_new_string(value));
	return o;
}

/* XenDisk: blkback on the dom0 block device (/dev/nbdN) when the host
 * has the kernel NBD client; without it, qemu's qdisk backend given the
 * NBD URI.  BlockDevice for dom0 users, Nbd for xapi's NBD consumers. */
static struct json_object *backend_json(const struct ops_dp_backend *b)
{
	struct json_object *xen, *impls = json_object_new_array(), *r = json_object_new_object();
	char uri[sizeof b->socket + sizeof b->export_name + 32], dev[32];

	snprintf(uri, sizeof uri, "nbd:unix:%s:exportname=%s", b->socket, b->export_name);
	snprintf(dev, sizeof dev, "/dev/nbd%d", b->device);
	xen = str_object("backend_type", b->device >= 0 ? "vbd" : "qdisk");
	json_object_object_add(xen, "params", json_object_new_string(b->device >= 0 ? dev : uri));
	json_object_object_add(xen, "extra", json_object_new_object());
	add_impl(impls, "XenDisk", xen);
	if (b->device >= 0)
		add_impl(impls, "BlockDevice", str_object("path", dev));
	add_impl(impls, "Nbd", str_object("uri", uri));
	json_object_object_add(r, "implementations", impls);
	return r;
}

int dp_attach(const char *plugin, struct json_object *params, struct json_object **result)
{
	struct ops_dp_backend b;

	if (ops_datapath_attach(rpc_str(params, "uri"), rpc_str(params, "domain"), &b) < 0)
		return -1;
	*result = backend_json(&b);
	return 0;
}

int dp_activate(const char *plugin, struct json_object *params, struct json_object **result)
{
	return ops_datapath_activate(rpc_str(params, "uri"), rpc_str(params, "domain"), true);
}

int dp_activate_readonly(const char *plugin, struct json_object *params,
			 struct json_object **result)
{
	return ops_datapath_activate(rpc_str(params, "uri"), rpc_str(params, "domain"), false);
}

int dp_deactivate(const char *plugin, struct json_object *params, struct json_object **result)
{
	return ops_datapath_deactivate(rpc_str(params, "uri"), rpc_str(params, "domain"));
}

int dp_detach(const char *plugin, struct json_object *params, struct json_object **result)
{
	ops_datapath_detach(rpc_str(params, "uri"), rpc_str(params, "domain"));
	return 0;
}

int dp_close(const char *plugin, struct json_object *params, struct json_object **result)
{
	return ops_datapath_close(rpc_str(params, "uri"));
}
