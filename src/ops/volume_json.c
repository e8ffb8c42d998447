/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/volume_json: a volume and an SR as the IDL's volume and sr_stat. */
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/store.h"
#include "ops-int.h"

/* Bytes the leaf image occupies.  A store that cannot tell (an image
 * removed behind our back) must not make SR.ls fail: report 0 and log. */
static int64_t physical_of(struct ops_sr *sr, const struct meta_node *n)
{
	uint64_t bytes = 0;

	if (!n || store_image_size(sr->store, n->image, &bytes) < 0) {
		log_warn("SR %s: size of the image of node %s: %s", sr->sr, n ? n->uuid : "?",
			 err_last()->msg);
		return 0;
	}
	return bytes > INT64_MAX ? INT64_MAX : (int64_t)bytes;
}

static struct rpc_kv *keys_of(const struct meta_volume *v)
{
	struct rpc_kv *kv = calloc(v->nkeys + 1, sizeof *kv);

	for (size_t i = 0; kv && i < v->nkeys; i++) {
		kv[i].k = v->keys[i].k;
		kv[i].v = v->keys[i].v;
	}
	return kv;
}

int ops_volume_json(struct ops_sr *sr, const struct meta_volume *v, struct json_object **out)
{
	struct meta_node *n = NULL;

	/* A missing node is reported as size 0 (as before); damage fails. */
	if (meta_node_find(sr->meta, v->node, &n) < 0 && err_errnum() != ENOENT)
		return -1;
	return ops_volume_json_leaf(sr, v, n, out);
}

int ops_volume_json_leaf(struct ops_sr *sr, const struct meta_volume *v, const struct meta_node *n,
			 struct json_object **out)
{
	struct rpc_kv *kv = keys_of(v);
	char *uri = NULL;
	const char *uris[1];

	if (!kv || ops_uri_format(sr->type, sr->sr, v->key, &uri) < 0) {
		free(kv);
		return kv ? -1 : err_set(ENOMEM, "out of memory");
	}
	uris[0] = uri;
	struct rpc_volume rv = {
		.key = v->key, .uuid = v->uuid, .name = v->name, .description = v->description,
		.read_write = v->read_write, .sharable = v->sharable,
		.virtual_size = n && n->virtual_size <= INT64_MAX ? (int64_t)n->virtual_size : 0,
		.physical_utilisation = physical_of(sr, n),
		.uri = uris, .nuri = 1, .keys = kv, .nkeys = v->nkeys,
	};
	*out = rpc_volume_json(&rv);
	free(uri);
	free(kv);
	return *out ? 0 : -1;
}

int ops_sr_stat_fill(struct ops_sr *sr, struct rpc_sr_stat *st)
{
	uint64_t free_b, total_b;

	if (store_space(sr->store, &free_b, &total_b) < 0)
		return -1;
	*st = (struct rpc_sr_stat){
		.sr = sr->sr, .name = sr->meta->name, .uuid = sr->meta->uuid,
		.description = sr->meta->description,
		.free_space = free_b > INT64_MAX ? INT64_MAX : (int64_t)free_b,
		.total_space = total_b > INT64_MAX ? INT64_MAX : (int64_t)total_b,
		.clustered = false,
	};
	return 0;
}

int ops_sr_stat_json(struct ops_sr *sr, struct json_object **out)
{
	struct rpc_sr_stat st;

	if (ops_sr_stat_fill(sr, &st) < 0)
		return -1;
	*out = rpc_sr_stat_json(&st);
	return *out ? 0 : -1;
}
