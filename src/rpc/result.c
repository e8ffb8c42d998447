/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc/result: the IDL's result shapes, with their exact JSON field names
 * and types (xen-api ocaml/xapi-storage/generator/lib).  Optional fields
 * are omitted rather than null, as rpclib marshals None. */
#include <json-c/json.h>

#include "lq/err.h"
#include "lq/rpc.h"
#include "lq/version.h"

/* json-c reports allocation failures by returning NULL; collect them in
 * one flag so the builders stay readable. */
struct jb {
	bool failed;
};

static struct json_object *jstr(struct jb *b, const char *s)
{
	struct json_object *o = json_object_new_string(s ? s : "");

	b->failed |= !o;
	return o;
}

static void put(struct jb *b, struct json_object *obj, const char *k, struct json_object *v)
{
	if (!obj || !v || json_object_object_add(obj, k, v) < 0) {
		json_object_put(v);
		b->failed = true;
	}
}

static struct json_object *jstr_list(struct jb *b, const char *const *s, size_t n)
{
	struct json_object *a = json_object_new_array();

	b->failed |= !a;
	for (size_t i = 0; a && i < n; i++) {
		struct json_object *e = jstr(b, s[i]);
		if (!e || json_object_array_add(a, e) < 0) {
			json_object_put(e);
			b->failed = true;
		}
	}
	return a;
}

static struct json_object *kv_obj(struct jb *b, const struct rpc_kv *kv, size_t n)
{
	struct json_object *o = json_object_new_object();

	b->failed |= !o;
	for (size_t i = 0; o && i < n; i++)
		put(b, o, kv[i].k, jstr(b, kv[i].v));
	return o;
}

static struct json_object *finish(struct jb *b, struct json_object *o)
{
	if (!b->failed)
		return o;
	json_object_put(o);
	err_set(ENOMEM, "building the result: out of memory");
	return NULL;
}

struct json_object *rpc_kv_json(const struct rpc_kv *kv, size_t n)
{
	struct jb b = { false };

	return finish(&b, kv_obj(&b, kv, n));
}

struct json_object *rpc_volume_json(const struct rpc_volume *v)
{
	struct jb b = { false };
	struct json_object *o = json_object_new_object();

	put(&b, o, "key", jstr(&b, v->key));
	if (v->uuid)
		put(&b, o, "uuid", jstr(&b, v->uuid));
	put(&b, o, "name", jstr(&b, v->name));
	put(&b, o, "description", jstr(&b, v->description));
	put(&b, o, "read_write", json_object_new_boolean(v->read_write));
	put(&b, o, "sharable", json_object_new_boolean(v->sharable));
	put(&b, o, "virtual_size", json_object_new_int64(v->virtual_size));
	put(&b, o, "physical_utilisation", json_object_new_int64(v->physical_utilisation));
	put(&b, o, "uri", jstr_list(&b, v->uri, v->nuri));
	put(&b, o, "keys", kv_obj(&b, v->keys, v->nkeys));
	return finish(&b, o);
}

static struct json_object *health_healthy(struct jb *b)
{
	struct json_object *a = json_object_new_array();

	if (!a || json_object_array_add(a, jstr(b, "Healthy")) < 0 ||
	    json_object_array_add(a, jstr(b, "")) < 0)
		b->failed = true;
	return a;
}

static struct json_object *sr_stat_obj(struct jb *b, const struct rpc_sr_stat *s)
{
	struct json_object *o = json_object_new_object();

	put(b, o, "sr", jstr(b, s->sr));
	put(b, o, "name", jstr(b, s->name));
	if (s->uuid)
		put(b, o, "uuid", jstr(b, s->uuid));
	put(b, o, "description", jstr(b, s->description));
	put(b, o, "free_space", json_object_new_int64(s->free_space));
	put(b, o, "total_space", json_object_new_int64(s->total_space));
	put(b, o, "datasources", json_object_new_array());
	put(b, o, "clustered", json_object_new_boolean(s->clustered));
	put(b, o, "health", health_healthy(b));
	return o;
}

struct json_object *rpc_sr_stat_json(const struct rpc_sr_stat *s)
{
	struct jb b = { false };

	return finish(&b, sr_stat_obj(&b, s));
}

struct json_object *rpc_query_json(const struct rpc_query *q)
{
	struct jb b = { false };
	struct json_object *o = json_object_new_object();

	put(&b, o, "plugin", jstr(&b, q->plugin));
	put(&b, o, "name", jstr(&b, q->name));
	put(&b, o, "description", jstr(&b, q->description));
	put(&b, o, "vendor", jstr(&b, LVQCOW_VENDOR));
	put(&b, o, "copyright", jstr(&b, LVQCOW_COPYRIGHT));
	put(&b, o, "version", jstr(&b, LVQCOW_VERSION));
	put(&b, o, "required_api_version", jstr(&b, LVQCOW_API_VERSION));
	put(&b, o, "features", jstr_list(&b, q->features, q->nfeatures));
	put(&b, o, "configuration", kv_obj(&b, q->configuration, q->nconfiguration));
	put(&b, o, "required_cluster_stack", json_object_new_array());
	return finish(&b, o);
}

struct json_object *rpc_probe_json(const struct rpc_kv *config, size_t n, bool complete,
				   const struct rpc_sr_stat *stat)
{
	struct jb b = { false };
	struct json_object *o = json_object_new_object();

	put(&b, o, "configuration", kv_obj(&b, config, n));
	put(&b, o, "complete", json_object_new_boolean(complete));
	if (stat)
		put(&b, o, "sr", sr_stat_obj(&b, stat));
	put(&b, o, "extra_info", json_object_new_object());
	return finish(&b, o);
}
