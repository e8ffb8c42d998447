/* entry: the table the multi-call binary dispatches on.
 *
 * Each top-level directory of entry points (plugin/, volume/, datapath/,
 * cli/) exports one NULL-terminated table.  The binary finds the entry by
 * the name it was invoked as (case-insensitively, as xapi-storage-script
 * looks scripts up) and by the kind of its plugin directory.
 */
#ifndef LQ_ENTRY_H
#define LQ_ENTRY_H

enum entry_kind {
	ENTRY_VOLUME,   /* <root>/volume/org.xen.xapi.storage.<type>/ */
	ENTRY_DATAPATH, /* <root>/datapath/<scheme>/ */
};

struct entry_ctx {
	enum entry_kind kind;
	const char *plugin; /* "fileqcow", "lvqcow" or the datapath scheme */
	int argc;
	char **argv;
};

struct entry {
	const char *name;   /* "SR.create" */
	unsigned kinds;     /* bit mask of 1 << ENTRY_* */
	int (*run)(const struct entry_ctx *ctx);
};

extern const struct entry plugin_entries[];
extern const struct entry volume_entries[];
extern const struct entry datapath_entries[];

#endif
