/* The volume entry points of the multi-call binary: the one table that
 * ties each SR and Volume call name to its parameter schema and handler. */
#include "lq/entry.h"
#include "lq/rpc.h"
#include "volume.h"

#define CALL(id, schema, fn)                                                   \
	static int run_##id(const struct entry_ctx *c)                         \
	{                                                                      \
		return rpc_main(c->argc, c->argv, c->plugin, schema, fn);      \
	}

CALL(sr_probe, sr_probe_schema, sr_probe)
CALL(sr_create, sr_create_schema, sr_create)
CALL(sr_attach, sr_attach_schema, sr_attach)
CALL(sr_detach, sr_only_schema, sr_detach)
CALL(sr_destroy, sr_only_schema, sr_destroy)
CALL(sr_stat, sr_only_schema, sr_stat)
CALL(sr_ls, sr_only_schema, sr_ls)
CALL(sr_set_name, sr_set_name_schema, sr_set_name)
CALL(sr_set_description, sr_set_description_schema, sr_set_description)
CALL(vol_create, vol_create_schema, vol_create)
CALL(vol_destroy, vol_key_schema, vol_destroy)
CALL(vol_stat, vol_key_schema, vol_stat)
CALL(vol_set, vol_set_schema, vol_set)
CALL(vol_unset, vol_unset_schema, vol_unset)
CALL(vol_set_name, vol_set_name_schema, vol_set_name)
CALL(vol_set_description, vol_set_description_schema, vol_set_description)
CALL(vol_snapshot, vol_key_schema, vol_snapshot)
CALL(vol_clone, vol_key_schema, vol_clone)
CALL(vol_resize, vol_resize_schema, vol_resize)

#define V (1u << ENTRY_VOLUME)

const struct entry volume_entries[] = {
	{ "SR.probe", V, run_sr_probe },
	{ "SR.create", V, run_sr_create },
	{ "SR.attach", V, run_sr_attach },
	{ "SR.detach", V, run_sr_detach },
	{ "SR.destroy", V, run_sr_destroy },
	{ "SR.stat", V, run_sr_stat },
	{ "SR.ls", V, run_sr_ls },
	{ "SR.set_name", V, run_sr_set_name },
	{ "SR.set_description", V, run_sr_set_description },
	{ "Volume.create", V, run_vol_create },
	{ "Volume.destroy", V, run_vol_destroy },
	{ "Volume.stat", V, run_vol_stat },
	{ "Volume.set", V, run_vol_set },
	{ "Volume.unset", V, run_vol_unset },
	{ "Volume.set_name", V, run_vol_set_name },
	{ "Volume.set_description", V, run_vol_set_description },
	{ "Volume.snapshot", V, run_vol_snapshot },
	{ "Volume.clone", V, run_vol_clone },
	{ "Volume.resize", V, run_vol_resize },
	{ 0 },
};
