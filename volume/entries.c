/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SR and Volume calls of the volume plugins: one row per call (wire
 * name, schema, handler, implied features; see lq/entry.h).  Schemas
 * give the names and JSON types of the IDL, xen-api
 * ocaml/xapi-storage/generator/lib/control.ml. */
#include "lq/entry.h"
#include "lq/rpc.h"
#include "volume.h"

#define V ENTRY_KIND(ENTRY_VOLUME)
#define S(n) ENTRY_F(n, STRING)
#define FEAT(f) { ENTRY_FEAT(VOLUME, f) }

const struct entry volume_entries[] = {
	{ "SR.probe", NULL, V, ENTRY_SCHEMA(ENTRY_F("configuration", DICT)),
	  sr_probe, FEAT("SR_PROBE") },
	{ "SR.create", NULL, V,
	  ENTRY_SCHEMA(S("uuid"), ENTRY_F("configuration", DICT), S("name"), S("description")),
	  sr_create, FEAT("SR_CREATE") },
	{ "SR.attach", NULL, V, ENTRY_SCHEMA(ENTRY_F("configuration", DICT)),
	  sr_attach, FEAT("SR_ATTACH") },
	{ "SR.detach", NULL, V, ENTRY_SCHEMA(S("sr")), sr_detach, FEAT("SR_DETACH") },
	{ "SR.destroy", NULL, V, ENTRY_SCHEMA(S("sr")), sr_destroy, FEAT("SR_DELETE") },
	{ "SR.stat", NULL, V, ENTRY_SCHEMA(S("sr")), sr_stat, FEAT("SR_UPDATE") },
	{ "SR.ls", NULL, V, ENTRY_SCHEMA(S("sr")), sr_ls, FEAT("SR_SCAN") },
	{ "SR.set_name", NULL, V, ENTRY_SCHEMA(S("sr"), S("new_name")),
	  sr_set_name, ENTRY_NO_FEATURES },
	{ "SR.set_description", NULL, V, ENTRY_SCHEMA(S("sr"), S("new_description")),
	  sr_set_description, ENTRY_NO_FEATURES },
	{ "Volume.create", NULL, V,
	  ENTRY_SCHEMA(S("sr"), S("name"), S("description"), ENTRY_F("size", SIZE),
		       ENTRY_F("sharable", BOOL)),
	  vol_create, FEAT("VDI_CREATE") },
	{ "Volume.destroy", NULL, V, ENTRY_SCHEMA(S("sr"), S("key")),
	  vol_destroy, FEAT("VDI_DESTROY") },
	{ "Volume.stat", NULL, V, ENTRY_SCHEMA(S("sr"), S("key")),
	  vol_stat, FEAT("VDI_UPDATE") },
	{ "Volume.set", NULL, V, ENTRY_SCHEMA(S("sr"), S("key"), S("k"), S("v")),
	  vol_set, ENTRY_NO_FEATURES },
	{ "Volume.unset", NULL, V, ENTRY_SCHEMA(S("sr"), S("key"), S("k")),
	  vol_unset, ENTRY_NO_FEATURES },
	{ "Volume.set_name", NULL, V, ENTRY_SCHEMA(S("sr"), S("key"), S("new_name")),
	  vol_set_name, ENTRY_NO_FEATURES },
	{ "Volume.set_description", NULL, V,
	  ENTRY_SCHEMA(S("sr"), S("key"), S("new_description")),
	  vol_set_description, ENTRY_NO_FEATURES },
	{ "Volume.snapshot", NULL, V, ENTRY_SCHEMA(S("sr"), S("key")),
	  vol_snapshot, FEAT("VDI_SNAPSHOT") },
	{ "Volume.clone", NULL, V, ENTRY_SCHEMA(S("sr"), S("key")), vol_clone,
	  { ENTRY_FEAT(VOLUME, "VDI_CLONE"), ENTRY_FEAT(VOLUME, "VDI_RESET_ON_BOOT/2") } },
	{ "Volume.resize", NULL, V, ENTRY_SCHEMA(S("sr"), S("key"), ENTRY_F("new_size", SIZE)),
	  vol_resize,
	  { ENTRY_FEAT(VOLUME, "VDI_RESIZE"), ENTRY_FEAT(VOLUME, "VDI_RESIZE_ONLINE") } },
	{ "Volume.compose", NULL, V, ENTRY_SCHEMA(S("sr"), S("key"), S("key2")),
	  vol_compose, FEAT("VDI_COMPOSE") },
	{ 0 },
};
