/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm: "lvqcow lvm", the LVM layer (src/lvm) by hand, for operators and
 * tests.  Each subcommand is one lvm_* operation; its result is printed
 * as one JSON value on stdout (null when there is nothing to report) and
 * a failure as the error JSON a call prints, with status 1: the same
 * stdout that liblvm2cmd reopens and the same error classes the store
 * will see.  Names are checked by the layer, as the plugin's are. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lq/err.h"
#include "lq/log.h"
#include "lq/lvm.h"
#include "lq/rpc.h"

struct lvm_sub {
	const char *name;
	int nargs, optargs;
	const char *usage;
	int (*run)(char **argv, struct json_object **out);
};

static int parse_bytes(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *end || errno)
		return err_xapi(XERR_INVALID, "not a byte count: '%.32s'", s);
	return 0;
}

static struct json_object *lv_json(const struct lvm_lv *lv)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(lv->name));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)lv->size));
	json_object_object_add(o, "attr", json_object_new_string(lv->attr));
	json_object_object_add(o, "active", json_object_new_boolean(lv->active));
	json_object_object_add(o, "open", json_object_new_boolean(lv->open));
	json_object_object_add(o, "tags", json_object_new_string(lv->tags));
	return o;
}

static int sub_version(char **argv, struct json_object **out)
{
	char buf[256];

	if (lvm_version(buf, sizeof buf) < 0)
		return -1;
	*out = json_object_new_string(buf);
	return 0;
}

static int sub_pv_create(char **argv, struct json_object **out)
{
	uint64_t mib = LVM_MDA_DEFAULT >> 20;

	if (argv[1] && parse_bytes(argv[1], &mib) < 0)
		return -1;
	if (mib > (UINT64_MAX >> 20))
		return err_xapi(XERR_INVALID, "metadata size too large");
	return lvm_pv_create(argv[0], mib << 20);
}

static int sub_vg_create(char **argv, struct json_object **out)
{
	return lvm_vg_create(argv[0], argv[1], 0, argv[2]);
}

static int sub_vg_remove(char **argv, struct json_object **out)
{
	return lvm_vg_remove(argv[0]);
}

static int sub_pv_remove(char **argv, struct json_object **out)
{
	return lvm_pv_remove(argv[0]);
}

static int sub_lv_create(char **argv, struct json_object **out)
{
	uint64_t bytes;

	return parse_bytes(argv[2], &bytes) < 0 ? -1
						 : lvm_lv_create(argv[0], argv[1], bytes, argv[3]);
}

static int sub_lv_remove(char **argv, struct json_object **out)
{
	const char *lv = argv[1];

	if (!argv[2])
		return lvm_lv_remove(argv[0], lv);
	if (strcmp(argv[2], "unused"))
		return err_xapi(XERR_INVALID, "lv-remove: the third argument can only be 'unused'");
	return lvm_lvs_remove_unused(argv[0], &lv, 1);
}

static int sub_lv_resize(char **argv, struct json_object **out)
{
	uint64_t bytes;

	return parse_bytes(argv[2], &bytes) < 0 ? -1 : lvm_lv_resize(argv[0], argv[1], bytes);
}

static int sub_lv_extend(char **argv, struct json_object **out)
{
	uint64_t bytes;

	return parse_bytes(argv[2], &bytes) < 0 ? -1 : lvm_lv_extend(argv[0], argv[1], bytes);
}

static int sub_lv_rename(char **argv, struct json_object **out)
{
	return lvm_lv_rename(argv[0], argv[1], argv[2]);
}

static int sub_lv_tag(char **argv, struct json_object **out)
{
	return lvm_lv_add_tag(argv[0], argv[1], argv[2]);
}

static int sub_lvs(char **argv, struct json_object **out)
{
	struct lvm_lv_list l;

	if (lvm_lv_list(argv[0], &l) < 0)
		return -1;
	*out = json_object_new_array();
	for (size_t i = 0; i < l.n; i++)
		json_object_array_add(*out, lv_json(&l.lv[i]));
	lvm_lv_list_free(&l);
	return 0;
}

static int sub_lv(char **argv, struct json_object **out)
{
	struct lvm_lv lv;

	if (lvm_lv_get(argv[0], argv[1], &lv) < 0)
		return -1;
	*out = lv_json(&lv);
	return 0;
}

static int sub_vgs(char **argv, struct json_object **out)
{
	struct lvm_vg vg;

	if (lvm_vg_get(argv[0], &vg) < 0)
		return -1;
	struct json_object *o = *out = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(vg.name));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)vg.size));
	json_object_object_add(o, "free", json_object_new_int64((int64_t)vg.free));
	json_object_object_add(o, "extent_size", json_object_new_int64((int64_t)vg.extent_size));
	json_object_object_add(o, "lv_count", json_object_new_int64((int64_t)vg.lv_count));
	json_object_object_add(o, "mda_size", json_object_new_int64((int64_t)vg.mda_size));
	json_object_object_add(o, "mda_free", json_object_new_int64((int64_t)vg.mda_free));
	json_object_object_add(o, "tags", json_object_new_string(vg.tags));
	return 0;
}

static int sub_activate(char **argv, struct json_object **out)
{
	static const char *const modes[] = { "exclusive", "shared", "readonly" };

	for (int m = 0; m < 3; m++)
		if (!strcmp(argv[2], modes[m]))
			return lvm_lv_activate(argv[0], argv[1], (enum lvm_activation)m);
	return err_xapi(XERR_INVALID, "activation mode is exclusive, shared or readonly");
}

static int sub_deactivate(char **argv, struct json_object **out)
{
	return lvm_lv_deactivate(argv[0], argv[1]);
}

static const struct lvm_sub subs[] = {
	{ "version", 0, 0, "", sub_version },
	{ "pv-create", 1, 1, "DEV [METADATA_MIB]", sub_pv_create },
	{ "vg-create", 2, 1, "VG DEV [TAG]", sub_vg_create },
	{ "vg-remove", 1, 0, "VG", sub_vg_remove },
	{ "pv-remove", 1, 0, "DEV", sub_pv_remove },
	{ "lv-create", 3, 1, "VG LV BYTES [TAG]", sub_lv_create },
	{ "lv-remove", 2, 1, "VG LV [unused]", sub_lv_remove },
	{ "lv-resize", 3, 0, "VG LV BYTES", sub_lv_resize },
	{ "lv-extend", 3, 0, "VG LV BYTES", sub_lv_extend },
	{ "lv-rename", 3, 0, "VG LV NEW_LV", sub_lv_rename },
	{ "lv-tag", 3, 0, "VG LV TAG", sub_lv_tag },
	{ "lvs", 1, 0, "VG", sub_lvs },
	{ "lv", 2, 0, "VG LV", sub_lv },
	{ "vgs", 1, 0, "VG", sub_vgs },
	{ "activate", 3, 0, "VG LV exclusive|shared|readonly", sub_activate },
	{ "deactivate", 2, 0, "VG LV", sub_deactivate },
};

static int lvm_usage(FILE *f)
{
	fprintf(f, "usage: lvqcow lvm COMMAND ARGS...   (one JSON value on stdout)\n");
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		fprintf(f, "  %-11s %s\n", subs[i].name, subs[i].usage);
	return f == stdout ? 0 : 1;
}

int cli_lvm(int argc, char **argv)
{
	char *args[8] = { NULL };
	struct json_object *out = NULL;

	if (argc < 2)
		return lvm_usage(stderr);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		const struct lvm_sub *s = &subs[i];
		if (strcmp(s->name, argv[1]))
			continue;
		if (argc - 2 < s->nargs || argc - 2 > s->nargs + s->optargs)
			return lvm_usage(stderr);
		memcpy(args, argv + 2, (size_t)(argc - 2) * sizeof *args);
		err_clear();
		if (s->run(args, &out) == 0)
			return rpc_print(stdout, out) == 0 ? 0 : 1;
		log_error("lvm %s: %s", s->name, err_last()->msg);
		rpc_print(stdout, rpc_error_json());
		return 1;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))
		return lvm_usage(stdout);
	return lvm_usage(stderr);
}
