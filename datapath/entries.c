/* The datapath plugin's entry points (<root>/datapath/lvqcow/): the one
 * table tying each call name to its parameter schema and handler.  The
 * Plugin.* names here answer for the datapath plugin only; the volume
 * plugins' Plugin.* calls live in plugin/. */
#include "lq/entry.h"
#include "calls.h"

#define CALL(id, schema, fn)                                                   \
	static int run_##id(const struct entry_ctx *c)                         \
	{                                                                      \
		return rpc_main(c->argc, c->argv, c->plugin, schema, fn);      \
	}

CALL(query, dp_dbg_schema, dp_query)
CALL(diagnostics, dp_dbg_schema, dp_diagnostics)
CALL(open, dp_open_schema, dp_open)
CALL(attach, dp_domain_schema, dp_attach)
CALL(activate, dp_domain_schema, dp_activate)
CALL(activate_readonly, dp_domain_schema, dp_activate_readonly)
CALL(deactivate, dp_domain_schema, dp_deactivate)
CALL(detach, dp_domain_schema, dp_detach)
CALL(close, dp_uri_schema, dp_close)

#define D (1u << ENTRY_DATAPATH)

const struct entry datapath_entries[] = {
	{ "Plugin.query", D, run_query },
	{ "Plugin.diagnostics", D, run_diagnostics },
	{ "Datapath.open", D, run_open },
	{ "Datapath.attach", D, run_attach },
	{ "Datapath.activate", D, run_activate },
	{ "Datapath.activate_readonly", D, run_activate_readonly },
	{ "Datapath.deactivate", D, run_deactivate },
	{ "Datapath.detach", D, run_detach },
	{ "Datapath.close", D, run_close },
	{ 0 },
};
