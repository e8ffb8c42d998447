/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Plugin interface of the volume plugins: Plugin.query (also
 * installed as Plugin.Query), Plugin.diagnostics and Plugin.ls, their
 * table rows and the features no call implies.  The SR type is the
 * plugin directory's name. */
#include <json-c/json.h>
#include <string.h>

#include "lq/entry.h"
#include "lq/err.h"
#include "lq/ops.h"
#include "lq/rpc.h"

/* What SR.create needs in device-config, per SR type. */
static const struct rpc_kv fileqcow_config[] = {
	{ "path", "absolute path of an existing directory to hold the SR (required)" },
	{ "sr_uuid", "the SR's uuid, added by SR.create; checked by SR.attach (optional)" },
	{ "cache", "\"none\" (the default: volumes served with direct I/O, bypassing the host's "
		   "page cache) or \"writeback\" (buffered) (optional)" },
};

static const struct rpc_kv lvqcow_config[] = {
	{ "device", "block device to hold the SR's volume group; SR.create refuses one that is "
		    "in use or holds any data or signature (required)" },
	{ "sr_uuid", "the SR's uuid, added by SR.create; checked by SR.attach (optional)" },
	{ "cache", "\"none\" (the default: volumes served with direct I/O, bypassing the host's "
		   "page cache) or \"writeback\" (buffered) (optional)" },
};

static int query(const char *plugin, struct json_object *params, struct json_object **result)
{
	const char *features[ENTRY_MAX_FEATURES];
	struct rpc_query q = {
		.plugin = plugin,
		.name = "lvqcow qcow2 storage",
		.description = "VM disks as qcow2 images in a directory (fileqcow) or in LVM "
			       "logical volumes (lvqcow)",
		.features = features,
		.nfeatures = entry_features(ENTRY_VOLUME, features),
		.configuration = fileqcow_config,
		.nconfiguration = sizeof fileqcow_config / sizeof fileqcow_config[0],
	};

	if (ops_plugin_check(plugin) < 0)
		return -1;
	if (!strcmp(plugin, "lvqcow")) {
		q.configuration = lvqcow_config;
		q.nconfiguration = sizeof lvqcow_config / sizeof lvqcow_config[0];
	}
	*result = rpc_query_json(&q);
	return *result ? 0 : -1;
}

static int diagnostics(const char *plugin, struct json_object *params, struct json_object **result)
{
	return ops_plugin_diagnostics(plugin, result);
}

static int ls(const char *plugin, struct json_object *params, struct json_object **result)
{
	return ops_plugin_ls(plugin, result);
}

#define V ENTRY_KIND(ENTRY_VOLUME)

const struct entry plugin_entries[] = {
	{ "Plugin.query", "Plugin.Query", V, ENTRY_SCHEMA(), query, ENTRY_NO_FEATURES },
	{ "Plugin.diagnostics", NULL, V, ENTRY_SCHEMA(), diagnostics, ENTRY_NO_FEATURES },
	{ "Plugin.ls", NULL, V, ENTRY_SCHEMA(), ls, ENTRY_NO_FEATURES },
	{ 0 },
};

/* Volumes are allocated as they are written.  The toolstack's static-vdis
 * script (HA statefile, pool metadata VDIs) attaches a volume at boot,
 * before xapi runs, through the command-line form of the calls, and does
 * so only for an SR type declaring VDI_ATTACH_OFFLINE. */
const struct entry_feature plugin_features[] = {
	ENTRY_FEAT(VOLUME, "THIN_PROVISIONING"),
	ENTRY_FEAT(VOLUME, "VDI_ATTACH_OFFLINE"),
	{ 0 },
};
