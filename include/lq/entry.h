/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* entry: the call tables, the one declaration of every SMAPIv3 call.
 *
 * Each directory of entry points (plugin/, volume/, datapath/) exports
 * one table; a row gives a call's wire name, the plugin kinds that
 * install it, its parameter schema, its handler and the Plugin.query
 * features it implies.  Everything else follows from the rows
 * (cli/calls.c): dispatch, the names `make install` links
 * (`lvqcow list-calls`) and the features each Plugin.query declares.
 * Adding a call is one row plus its handler.
 */
#ifndef LQ_ENTRY_H
#define LQ_ENTRY_H

#include <stddef.h>

#include "lq/rpc.h"

enum entry_kind {
	ENTRY_VOLUME,   /* <root>/volume/org.xen.xapi.storage.<type>/ */
	ENTRY_DATAPATH, /* <root>/datapath/<scheme>/ */
	ENTRY_NKINDS,
};

#define ENTRY_KIND(k) (1u << (k))

/* A Plugin.query feature and the kind of plugin that declares it: a
 * Datapath call can imply a feature of the volume plugins (the SR's
 * features are what xapi checks before it attaches). */
struct entry_feature {
	enum entry_kind by;
	const char *name; /* "VDI_CREATE", "VDI_RESET_ON_BOOT/2" */
};

#define ENTRY_MAX_CALL_FEATURES 3

struct entry {
	const char *name;   /* wire name, "SR.create"; NULL ends a table */
	const char *alias;  /* also installed under this name, or NULL */
	unsigned kinds;     /* ENTRY_KIND() mask of the plugins installing it */
	const struct rpc_field *schema;
	rpc_handler fn;
	struct entry_feature features[ENTRY_MAX_CALL_FEATURES]; /* NULL name: none */
};

/* Row helpers: a schema lists its fields after the IDL's dbg string,
 * which every call takes first. */
#define ENTRY_F(n, t) { n, RPC_##t }
#define ENTRY_SCHEMA(...)                                                      \
	((const struct rpc_field[]){ ENTRY_F("dbg", STRING), ##__VA_ARGS__, { NULL, 0 } })
#define ENTRY_FEAT(kind, f) { ENTRY_##kind, f }
#define ENTRY_NO_FEATURES { { 0 } }

extern const struct entry plugin_entries[];   /* plugin/entries.c */
extern const struct entry volume_entries[];   /* volume/entries.c */
extern const struct entry datapath_entries[]; /* datapath/entries.c */
/* Features that no call implies, declared beside the tables; ends with a
 * NULL name. */
extern const struct entry_feature plugin_features[];   /* plugin/entries.c */
extern const struct entry_feature datapath_features[]; /* datapath/entries.c */

/* ---- what follows from the tables (cli/calls.c) ---- */

/* Every table, NULL-terminated; every non-call feature list likewise. */
extern const struct entry *const entry_tables[];
extern const struct entry_feature *const entry_feature_lists[];

/* The plugin directories under the xapi-storage-script root. */
struct entry_dir {
	enum entry_kind kind;
	const char *path; /* "volume/org.xen.xapi.storage.fileqcow" */
};
extern const struct entry_dir entry_dirs[]; /* NULL path ends it */

/* The call name (case-insensitive, as xapi-storage-script looks scripts
 * up) for a plugin of kind k, or NULL. */
const struct entry *entry_find(enum entry_kind k, const char *name);
/* The features the Plugin.query of kind k declares, without duplicates,
 * in table order then the non-call ones, into out (which holds
 * ENTRY_MAX_FEATURES: more is a bug in the tables, asserted); returns
 * how many. */
#define ENTRY_MAX_FEATURES 64
size_t entry_features(enum entry_kind k, const char **out);
/* "volume" / "datapath" and back (-1 for an unknown word). */
const char *entry_kind_name(enum entry_kind k);
int entry_kind_parse(const char *word);

#endif
