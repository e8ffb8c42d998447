/* The Plugin interface of the volume plugins: Plugin.query (also found
 * as Plugin.Query, lookup is case-insensitive), Plugin.diagnostics and
 * Plugin.ls.  The SR type is the plugin directory's name. */
#include <json-c/json.h>

#include "lq/entry.h"
#include "lq/err.h"
#include "lq/ops.h"
#include "lq/rpc.h"

static const struct rpc_field dbg_only[] = { { "dbg", RPC_STRING }, { NULL, 0 } };

/* What SR.create needs in device-config, per SR type. */
static const struct rpc_kv fileqcow_config[] = {
	{ "path", "absolute path of an existing directory to hold the SR (required)" },
	{ "sr_uuid", "the SR's uuid, added by SR.create; checked by SR.attach (optional)" },
};

static const char *const features[] = {
	"SR_ATTACH", "SR_DETACH", "SR_CREATE", "SR_DELETE", "SR_PROBE", "SR_SCAN", "SR_UPDATE",
	"VDI_CREATE", "VDI_DESTROY", "VDI_UPDATE", "VDI_ATTACH", "VDI_DETACH", "VDI_ACTIVATE",
	"VDI_DEACTIVATE", "VDI_ACTIVATE_READONLY", "VDI_SNAPSHOT", "VDI_CLONE", "VDI_RESIZE",
	"VDI_RESET_ON_BOOT/2", "THIN_PROVISIONING",
};

static int query(const char *plugin, struct json_object *params, struct json_object **result)
{
	struct rpc_query q = {
		.plugin = plugin,
		.name = "lvqcow qcow2 storage",
		.description = "VM disks as qcow2 images in a directory (fileqcow) or in LVM "
			       "logical volumes (lvqcow)",
		.features = features,
		.nfeatures = sizeof features / sizeof features[0],
		.configuration = fileqcow_config,
		.nconfiguration = sizeof fileqcow_config / sizeof fileqcow_config[0],
	};

	if (ops_plugin_check(plugin) < 0)
		return -1;
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

#define VOLUME_CALL(fn)                                                        \
	static int run_##fn(const struct entry_ctx *c)                         \
	{                                                                      \
		return rpc_main(c->argc, c->argv, c->plugin, dbg_only, fn);    \
	}

VOLUME_CALL(query)
VOLUME_CALL(diagnostics)
VOLUME_CALL(ls)

const struct entry plugin_entries[] = {
	{ "Plugin.query", 1u << ENTRY_VOLUME, run_query },
	{ "Plugin.diagnostics", 1u << ENTRY_VOLUME, run_diagnostics },
	{ "Plugin.ls", 1u << ENTRY_VOLUME, run_ls },
	{ 0 },
};
