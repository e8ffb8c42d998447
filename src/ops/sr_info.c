/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/sr_info: SR.stat, SR.ls, SR.probe, SR.set_name, SR.set_description
 * and the plugin-wide Plugin.ls and Plugin.diagnostics. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/meta.h"
#include "lq/rpc.h"
#include "lq/rundir.h"
#include "lq/store.h"
#include "ops-int.h"

int ops_sr_stat(const char *type, const char *sr, struct json_object **result)
{
	struct ops_sr *h;
	int rc;

	if (ops_sr_open(type, sr, 0, &h) < 0)
		return -1;
	rc = ops_sr_stat_json(h, result);
	ops_sr_close(h);
	return rc;
}

struct ls_ctx {
	struct ops_sr *h;
	struct json_object *a;
};

static int ls_add(struct meta_sr *m, struct meta_volume *vol, struct meta_node *leaf, void *arg)
{
	struct ls_ctx *c = arg;
	struct json_object *v;

	(void)m;
	if (ops_volume_json_leaf(c->h, vol, leaf, &v) < 0)
		return -1;
	return json_object_array_add(c->a, v) < 0 ? err_set(ENOMEM, "out of memory") : 0;
}

int ops_sr_ls(const char *type, const char *sr, struct json_object **result)
{
	struct json_object *a = json_object_new_array();
	struct ops_sr *h;
	int rc = 0;

	if (!a)
		return err_set(ENOMEM, "out of memory");
	if (ops_sr_open(type, sr, 0, &h) < 0) {
		json_object_put(a);
		return -1;
	}
	{
		struct ls_ctx c = { h, a };
		rc = meta_volume_each(h->meta, ls_add, &c);
	}
	ops_sr_close(h);
	if (rc < 0)
		json_object_put(a);
	else
		*result = a;
	return rc;
}

/* One probe_result: the configuration to attach (with sr_uuid and an
 * sr_stat when an SR is there) or to create one (without either).  Both
 * are complete, which xapi-storage-script requires of a result that
 * carries sr_uuid. */
static int probe_one(const char *type, const char *root, struct json_object **out)
{
	struct rpc_kv kv[2] = { { "path", root }, { "sr_uuid", NULL } };
	struct ops_sr *h = NULL;
	struct rpc_sr_stat st;
	int present = ops_sr_present(type, root);

	if (present < 0)
		return -1;
	if (!present) {
		*out = rpc_probe_json(kv, 1, true, NULL);
		return *out ? 0 : -1;
	}
	if (ops_sr_load(type, root, false, &h) < 0 || ops_sr_stat_fill(h, &st) < 0) {
		ops_sr_close(h);
		return -1;
	}
	kv[1].v = h->uuid;
	*out = rpc_probe_json(kv, 2, true, &st);
	ops_sr_close(h);
	return *out ? 0 : -1;
}

int ops_sr_probe(const char *type, struct json_object *config, struct json_object **result)
{
	struct json_object *a, *r;
	char *root = NULL;

	if (store_sr_config(type, config, NULL, &root) < 0)
		return -1;
	if (probe_one(type, root, &r) < 0) {
		free(root);
		return -1;
	}
	free(root);
	a = json_object_new_array();
	if (!a || json_object_array_add(a, r) < 0) {
		json_object_put(r);
		json_object_put(a);
		return err_set(ENOMEM, "out of memory");
	}
	*result = a;
	return 0;
}

static int set_field(const char *type, const char *sr, bool name, const char *value)
{
	struct ops_sr *h;
	int rc;

	if (ops_check_str(name ? "name" : "description", value) < 0 ||
	    ops_sr_open(type, sr, OPS_SR_LOCKED, &h) < 0)
		return -1;
	rc = meta_set_str(name ? &h->meta->name : &h->meta->description, value);
	if (rc == 0)
		rc = ops_sr_commit(h);
	ops_sr_close(h);
	return rc;
}

int ops_sr_set_name(const char *type, const char *sr, const char *name)
{
	return set_field(type, sr, true, name);
}

int ops_sr_set_description(const char *type, const char *sr, const char *description)
{
	return set_field(type, sr, false, description);
}

static int ls_one(const struct ops_attachment *a, void *arg)
{
	return json_object_array_add(arg, json_object_new_string(a->sr)) < 0
		       ? err_set(ENOMEM, "out of memory") : 0;
}

int ops_plugin_ls(const char *type, struct json_object **result)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		return err_set(ENOMEM, "out of memory");
	if (ops_attach_each(type, ls_one, a) < 0) {
		json_object_put(a);
		return -1;
	}
	*result = a;
	return 0;
}

static int diag_one(const struct ops_attachment *a, void *arg)
{
	char **text = arg, *next;
	struct ops_sr *h = NULL;
	char state[160];

	if (ops_sr_load(a->type, a->sr, false, &h) == 0)
		snprintf(state, sizeof state, "%llu volumes, %llu nodes, %llu journal records, generation %llu",
			 (unsigned long long)h->meta->nvolumes, (unsigned long long)h->meta->nnodes,
			 (unsigned long long)h->meta->njournal,
			 (unsigned long long)h->meta->generation);
	else
		snprintf(state, sizeof state, "unreadable: %.120s", err_last()->msg);
	ops_sr_close(h);
	if (asprintf(&next, "%sSR %s (%s) at %s: %s\n", *text, a->uuid, a->type, a->sr, state) < 0)
		return err_set(ENOMEM, "out of memory");
	free(*text);
	*text = next;
	return 0;
}

int ops_plugin_diagnostics(const char *type, struct json_object **result)
{
	char *text = NULL;
	int rc;

	if (asprintf(&text, "lvqcow %s plugin; runtime directory %s\nattached SRs:\n", type,
		     rundir_root()) < 0)
		return err_set(ENOMEM, "out of memory");
	rc = ops_attach_each(type, diag_one, &text);
	if (rc == 0 && !(*result = json_object_new_string(text)))
		rc = err_set(ENOMEM, "out of memory");
	free(text);
	return rc;
}
