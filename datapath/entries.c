/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The datapath plugin's calls (<root>/datapath/lvqcow/): one row per
 * call (see lq/entry.h).  The Plugin.* names here answer for the
 * datapath plugin only; the volume plugins' Plugin.* calls live in
 * plugin/.  The VDI_* features of the Datapath calls are declared by
 * the volume plugins: xapi checks them on the SR. */
#include "lq/entry.h"
#include "calls.h"

#define D ENTRY_KIND(ENTRY_DATAPATH)
#define URI ENTRY_F("uri", STRING)
#define DOMAIN URI, ENTRY_F("domain", STRING)
#define SR_FEAT(f) { ENTRY_FEAT(VOLUME, f) }

const struct entry datapath_entries[] = {
	{ "Plugin.query", "Plugin.Query", D, ENTRY_SCHEMA(), dp_query, ENTRY_NO_FEATURES },
	{ "Plugin.diagnostics", NULL, D, ENTRY_SCHEMA(), dp_diagnostics, ENTRY_NO_FEATURES },
	/* persistent=false: the datapath discards writes at close. */
	{ "Datapath.open", NULL, D, ENTRY_SCHEMA(URI, ENTRY_F("persistent", BOOL)), dp_open,
	  { ENTRY_FEAT(DATAPATH, "NONPERSISTENT"), ENTRY_FEAT(DATAPATH, "VDI_NONPERSISTENT") } },
	{ "Datapath.attach", NULL, D, ENTRY_SCHEMA(DOMAIN), dp_attach, SR_FEAT("VDI_ATTACH") },
	{ "Datapath.activate", NULL, D, ENTRY_SCHEMA(DOMAIN), dp_activate,
	  SR_FEAT("VDI_ACTIVATE") },
	{ "Datapath.activate_readonly", NULL, D, ENTRY_SCHEMA(DOMAIN), dp_activate_readonly,
	  SR_FEAT("VDI_ACTIVATE_READONLY") },
	{ "Datapath.deactivate", NULL, D, ENTRY_SCHEMA(DOMAIN), dp_deactivate,
	  SR_FEAT("VDI_DEACTIVATE") },
	{ "Datapath.detach", NULL, D, ENTRY_SCHEMA(DOMAIN), dp_detach, SR_FEAT("VDI_DETACH") },
	{ "Datapath.close", NULL, D, ENTRY_SCHEMA(URI), dp_close, ENTRY_NO_FEATURES },
	{ 0 },
};

/* Every feature of the datapath plugin follows from a call. */
const struct entry_feature datapath_features[] = {
	{ 0 },
};
