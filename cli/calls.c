/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* calls: what follows from the call tables (lq/entry.h): finding a call
 * for dispatch, the features each kind of plugin declares, and
 * `lvqcow list-calls`, which `make install` reads to link every call
 * name into its plugin directory. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "lq/entry.h"

const struct entry *const entry_tables[] = {
	plugin_entries, volume_entries, datapath_entries, NULL,
};

const struct entry_feature *const entry_feature_lists[] = {
	plugin_features, datapath_features, NULL,
};

/* Where xapi-storage-script finds the plugins: one volume directory per
 * SR type we serve, one datapath directory per URI scheme. */
const struct entry_dir entry_dirs[] = {
	{ ENTRY_VOLUME, "volume/org.xen.xapi.storage.fileqcow" },
	{ ENTRY_VOLUME, "volume/org.xen.xapi.storage.lvqcow" },
	{ ENTRY_DATAPATH, "datapath/lvqcow" },
	{ 0, NULL },
};

static const char *const kind_names[ENTRY_NKINDS] = { "volume", "datapath" };

const char *entry_kind_name(enum entry_kind k)
{
	assert(k < ENTRY_NKINDS);
	return kind_names[k];
}

int entry_kind_parse(const char *word)
{
	for (int k = 0; k < ENTRY_NKINDS; k++)
		if (!strcmp(word, kind_names[k]))
			return k;
	return -1;
}

const struct entry *entry_find(enum entry_kind k, const char *name)
{
	for (const struct entry *const *t = entry_tables; *t; t++)
		for (const struct entry *e = *t; e->name; e++)
			if ((e->kinds & ENTRY_KIND(k)) && !strcasecmp(e->name, name))
				return e;
	return NULL;
}

/* Append name to out[0..*n) unless it is there already. */
static void add_feature(const char **out, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(out[i], name))
			return;
	assert(*n < ENTRY_MAX_FEATURES);
	out[(*n)++] = name;
}

static void add_list(const struct entry_feature *f, size_t nf, enum entry_kind k,
		     const char **out, size_t *n)
{
	for (size_t i = 0; i < nf && f[i].name; i++)
		if (f[i].by == k)
			add_feature(out, n, f[i].name);
}

size_t entry_features(enum entry_kind k, const char **out)
{
	size_t n = 0;

	for (const struct entry *const *t = entry_tables; *t; t++)
		for (const struct entry *e = *t; e->name; e++)
			add_list(e->features, ENTRY_MAX_CALL_FEATURES, k, out, &n);
	for (const struct entry_feature *const *l = entry_feature_lists; *l; l++)
		add_list(*l, SIZE_MAX, k, out, &n);
	return n;
}

/* ---- lvqcow list-calls ---- */

static void print_names(enum entry_kind k, const char *prefix)
{
	for (const struct entry *const *t = entry_tables; *t; t++)
		for (const struct entry *e = *t; e->name; e++) {
			if (!(e->kinds & ENTRY_KIND(k)))
				continue;
			printf("%s%s\n", prefix, e->name);
			if (e->alias)
				printf("%s%s\n", prefix, e->alias);
		}
}

static void print_install(void)
{
	char prefix[256];

	for (const struct entry_dir *d = entry_dirs; d->path; d++) {
		snprintf(prefix, sizeof prefix, "%s/", d->path);
		print_names(d->kind, prefix);
	}
}

static void print_features(enum entry_kind k)
{
	const char *f[ENTRY_MAX_FEATURES];
	size_t n = entry_features(k, f);

	for (size_t i = 0; i < n; i++)
		printf("%s\n", f[i]);
}

static int list_usage(FILE *f)
{
	fprintf(f, "usage: lvqcow list-calls [--features] [volume|datapath]\n"
			"  no kind: every installed path, <plugin dir>/<call name>\n"
			"  a kind: the call names a plugin of that kind installs\n"
			"  --features KIND: the features its Plugin.query declares\n");
	return f == stdout ? 0 : 1;
}

int cli_list_calls(int argc, char **argv)
{
	bool features = argc > 1 && !strcmp(argv[1], "--features");
	int first = features ? 2 : 1, k;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return list_usage(stdout);
	if (argc == 1) {
		print_install();
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc != first + 1 || (k = entry_kind_parse(argv[first])) < 0)
		return list_usage(stderr);
	if (features)
		print_features((enum entry_kind)k);
	else
		print_names((enum entry_kind)k, "");
	return fflush(stdout) == 0 ? 0 : 1;
}
