/* lvqcow: the multi-call binary.
 *
 * Installed once as <prefix>/bin/lvqcow and symlinked under every plugin
 * directory of xapi-storage-script.  Invoked through a symlink it is that
 * SMAPIv3 call, for the plugin whose directory holds the symlink; invoked
 * as "lvqcow" it is the admin CLI.
 */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "lq/entry.h"
#include "lq/log.h"

static const struct cli_command cli_commands[] = {
	{ "img", "qcow2 image tools (lvqcow img help)", cli_img },
	{ "serve", "NBD server for one volume's chain", cli_serve },
	{ "gc", "garbage collector of an SR (lvqcow gc --help)", cli_gc },
	{ NULL, NULL, NULL },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: lvqcow COMMAND [ARGS...]\n\ncommands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
	fprintf(f, "\nInstalled under xapi-storage-script, the symlinks named after\n"
		   "SMAPIv3 calls (SR.create, Volume.stat, ...) run those calls.\n");
	return f == stdout ? 0 : 1;
}

static int admin_main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "lvqcow: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}

/* "<root>/volume/org.xen.xapi.storage.fileqcow/SR.create" gives kind
 * volume and plugin "fileqcow": xapi takes the last dot-separated part of
 * the directory name as the SR type. */
static int locate_plugin(const char *argv0, struct entry_ctx *ctx, char *buf, size_t n)
{
	char *dir, *kind, *plugin, *dot;

	snprintf(buf, n, "%s", argv0);
	dir = dirname(buf);
	plugin = strrchr(dir, '/');
	if (!plugin)
		return -1;
	*plugin++ = '\0';
	kind = strrchr(dir, '/');
	kind = kind ? kind + 1 : dir;
	if (!strcmp(kind, "volume"))
		ctx->kind = ENTRY_VOLUME;
	else if (!strcmp(kind, "datapath"))
		ctx->kind = ENTRY_DATAPATH;
	else
		return -1;
	dot = strrchr(plugin, '.');
	ctx->plugin = dot && ctx->kind == ENTRY_VOLUME ? dot + 1 : plugin;
	return 0;
}

static const struct entry *find_entry(const struct entry *table, const char *name,
				      enum entry_kind kind)
{
	for (const struct entry *e = table; e->name; e++)
		if (!strcasecmp(e->name, name) && (e->kinds & (1u << kind)))
			return e;
	return NULL;
}

static int call_main(const char *name, int argc, char **argv)
{
	static const struct entry *const tables[] = {
		plugin_entries, volume_entries, datapath_entries,
	};
	struct entry_ctx ctx = { .argc = argc, .argv = argv };
	char buf[4096];

	if (locate_plugin(argv[0], &ctx, buf, sizeof buf) < 0) {
		fprintf(stderr, "%s: cannot tell the plugin directory from '%s'\n",
			name, argv[0]);
		return 1;
	}
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		const struct entry *e = find_entry(tables[i], name, ctx.kind);
		if (e)
			return e->run(&ctx);
	}
	fprintf(stderr, "%s: no such call for plugin %s\n", name, ctx.plugin);
	return 1;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');

	name = name ? name + 1 : argv[0];
	log_init(name);
	if (!strcmp(name, "lvqcow") || !strncmp(name, "lvqcow-", 7))
		return admin_main(argc, argv);
	return call_main(name, argc, argv);
}
