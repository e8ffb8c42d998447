/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

#include "cli.h"
#include "lq/entry.h"
#include "lq/log.h"
#include "lq/rpc.h"

static const struct cli_command cli_commands[] = {
	{ "img", "qcow2 image tools (lvqcow img help)", cli_img },
	{ "serve", "NBD server for one volume's chain", cli_serve },
	{ "gc", "garbage collector of an SR (lvqcow gc --help)", cli_gc },
	{ "resume", "resume a volume's server a dead call left paused", cli_resume },
	{ "lvm", "the LVM layer by hand (lvqcow lvm help)", cli_lvm },
	{ "list-calls", "the SMAPIv3 calls and features of each plugin", cli_list_calls },
	{ NULL, NULL, NULL },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: lvqcow COMMAND [ARGS...]\n\ncommands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->help);
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
static int locate_plugin(const char *argv0, enum entry_kind *k, const char **name,
			 char *buf, size_t n)
{
	char *dir, *kind, *plugin, *dot;
	int parsed;

	snprintf(buf, n, "%s", argv0);
	dir = dirname(buf);
	plugin = strrchr(dir, '/');
	if (!plugin)
		return -1;
	*plugin++ = '\0';
	kind = strrchr(dir, '/');
	kind = kind ? kind + 1 : dir;
	if ((parsed = entry_kind_parse(kind)) < 0)
		return -1;
	*k = (enum entry_kind)parsed;
	dot = strrchr(plugin, '.');
	*name = dot && *k == ENTRY_VOLUME ? dot + 1 : plugin;
	return 0;
}

static int call_main(const char *name, int argc, char **argv)
{
	enum entry_kind kind;
	const char *plugin;
	const struct entry *e;
	char buf[4096];

	if (locate_plugin(argv[0], &kind, &plugin, buf, sizeof buf) < 0) {
		fprintf(stderr, "%s: cannot tell the plugin directory from '%s'\n",
			name, argv[0]);
		return 1;
	}
	if (!(e = entry_find(kind, name))) {
		fprintf(stderr, "%s: no such call for plugin %s\n", name, plugin);
		return 1;
	}
	return rpc_main(argc, argv, plugin, e->schema, e->fn);
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
