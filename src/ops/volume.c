/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/volume: Volume.create and Volume.destroy, and the volume lookup of
 * the datapath.
 *
 * Crash ordering: create writes the image first and commits the document
 * after (a crash leaves an unreferenced image, removed by the sweep);
 * destroy commits first and removes the image after (same leftover),
 * or leaves that to the collector it starts (removal.c).
 * Both hold the SR lock throughout, so the sweep never sees an image
 * whose commit is still to come. */
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/datapath.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/qcow2.h"
#include "lq/rpc.h"
#include "lq/store.h"
#include "ops-int.h"

/* Sizes are rounded up to whole 512-byte sectors, the unit of qcow2's
 * virtual size as qemu presents it. */
#define OPS_SIZE_ALIGN 512

int ops_check_size(int64_t size, uint64_t *rounded)
{
	if (size < 0)
		return err_xapi(XERR_INVALID_SIZE, "size %lld is negative", (long long)size);
	if (!align_up_checked((uint64_t)size, OPS_SIZE_ALIGN, rounded) ||
	    *rounded > QCOW2_MAX_VIRTUAL_SIZE)
		return err_xapi(XERR_INVALID_SIZE, "size %lld exceeds the largest supported, %llu",
				(long long)size, (unsigned long long)QCOW2_MAX_VIRTUAL_SIZE);
	return 0;
}

/* Write the empty image and read back the virtual size it really has. */
static int make_image(struct ops_sr *sr, const char *image, const char *path, uint64_t size,
		      uint64_t *vsize)
{
	struct qcow2_create_opts o = { .size = size, .compat = 3 };
	struct qcow2_image *img;
	struct qcow2_info info;
	int rc;

	if (ops_image_write_new(sr, image, &o) < 0 ||
	    qcow2_open(path, QCOW2_OPEN_NO_BACKING, &img) < 0)
		return -1;
	rc = qcow2_get_info(img, &info);
	if (qcow2_close(img) < 0)
		rc = -1;
	*vsize = info.virtual_size;
	return rc;
}

static int add_volume(struct ops_sr *sr, const char *key, const char *node_uuid, const char *image,
		      uint64_t vsize, const char *name, const char *description, bool sharable)
{
	struct meta_node *n = meta_node_add(sr->meta, node_uuid);
	struct meta_volume *v;

	if (!n || meta_set_str(&n->image, image) < 0)
		return -1;
	n->virtual_size = vsize;
	v = meta_volume_add(sr->meta, key);
	if (!v || meta_set_str(&v->uuid, key) < 0 || meta_set_str(&v->node, node_uuid) < 0 ||
	    meta_set_str(&v->name, name) < 0 || meta_set_str(&v->description, description) < 0)
		return -1;
	v->sharable = sharable;
	v->read_write = true;
	return 0;
}

struct create_args {
	const char *name, *description;
	uint64_t size;
	bool sharable;
};

/* The image is written first: if we die before the commit it is an
 * orphan for the sweep; if the commit fails we remove it ourselves. */
static int create_locked(struct ops_sr *sr, const struct create_args *a, struct json_object **result)
{
	char key[UUID_STR_LEN], node[UUID_STR_LEN], image[256], path[PATH_MAX];
	uint64_t vsize = 0;
	int rc;

	if (uuid_generate(key) < 0 || uuid_generate(node) < 0 ||
	    ops_node_alloc(sr, node, ops_node_room(a->size), image, sizeof image) < 0 ||
	    store_image_path(sr->store, image, path, sizeof path) < 0)
		return -1;
	rc = make_image(sr, image, path, a->size, &vsize);
	if (rc == 0) {
		fault_point("volume-create.image-written");
		rc = add_volume(sr, key, node, image, vsize, a->name, a->description, a->sharable);
	}
	if (rc == 0)
		rc = ops_sr_commit(sr);
	if (rc < 0) {
		struct err_record saved = *err_last();
		/* The entry point reports the failure; the removal's own
		 * failure, if any, must not replace it. */
		store_node_remove(sr->store, image);
		err_restore(&saved);
		return -1;
	}
	log_info("SR %s: created volume %s (%llu bytes)", sr->sr, key, (unsigned long long)vsize);
	{
		struct meta_volume *v;
		return ops_find_volume(sr, key, &v) < 0 ? -1 : ops_volume_json(sr, v, result);
	}
}

int ops_volume_create(const char *type, const char *sr_str, const char *name,
		      const char *description, int64_t size, bool sharable,
		      struct json_object **result)
{
	struct create_args a = { name, description, 0, sharable };
	struct ops_sr *sr;
	int rc;

	if (ops_check_size(size, &a.size) < 0 || ops_check_str("name", name) < 0 ||
	    ops_check_str("description", description) < 0 ||
	    ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = create_locked(sr, &a, result);
	ops_sr_close(sr);
	return rc;
}

static int push_image(char ***images, size_t *n, const char *image)
{
	char **grown = realloc(*images, (*n + 1) * sizeof *grown);

	if (!grown)
		return err_set(ENOMEM, "out of memory");
	*images = grown;
	if (!(grown[*n] = strdup(image ? image : "")))
		return err_set(ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

/* Drop the volume, then walk up from its leaf removing every node whose
 * refs (children + volumes, kept by meta) drop to 0: O(chain depth).  The
 * images of those nodes are returned for removal after the commit, or,
 * with later, recorded for the collector (removal.c); *left is the refs
 * of the node the walk stopped at (0 if none). */
static int drop_volume(struct ops_sr *sr, struct meta_volume *v, bool later, char ***images,
		       size_t *n, uint64_t *left)
{
	const char *cur = v->node;
	uint64_t refs = 0;

	*images = NULL;
	*n = 0;
	if (meta_volume_remove(sr->meta, v->key) < 0)
		return -1;
	while (cur) {
		struct meta_node *nd;
		if (meta_node_refs(sr->meta, cur, &refs) < 0 || meta_node_find(sr->meta, cur, &nd) < 0)
			return -1;
		if (refs)
			break;
		if ((later ? ops_removal_record(sr, nd->uuid, nd->image, "")
			   : push_image(images, n, nd->image)) < 0 ||
		    meta_node_remove(sr->meta, cur) < 0)
			return -1;
		cur = nd->parent; /* nd stays allocated in the cache */
	}
	*left = refs;
	return 0;
}

/* false if an image is left for the sweep */
static bool remove_images(struct ops_sr *sr, char **images, size_t n)
{
	bool all = true;

	for (size_t i = 0; i < n; i++) {
		if (store_node_remove(sr->store, images[i]) < 0) {
			log_warn("SR %s: %s (the sweep will retry)", sr->sr, err_last()->msg);
			all = false;
		}
		free(images[i]);
	}
	free(images);
	return all;
}

static int destroy_locked(struct ops_sr *sr, const char *key)
{
	struct meta_volume *v;
	char **images = NULL;
	size_t n = 0;
	uint64_t left;
	bool busy, removed;
	/* Removed by the collector this destroy starts, with any others
	 * pending: one LVM command for many volumes, none on this call's
	 * path.  Without a collector, removed here. */
	bool later = store_remove_later(sr->store) && ops_gc_auto();

	if (ops_find_volume(sr, key, &v) < 0 || ops_activation_busy(sr, key, &busy) < 0)
		return -1;
	if (busy || ops_datapath_attached(key))
		return err_xapi(XERR_VDI_IN_USE, "volume %s is %s", key, busy ? "active" : "attached");
	if (drop_volume(sr, v, later, &images, &n, &left) < 0 || ops_sr_commit(sr) < 0) {
		for (size_t i = 0; i < n; i++)
			free(images[i]);
		free(images);
		return -1;
	}
	fault_point("volume-destroy.committed");
	removed = remove_images(sr, images, n);
	ops_activation_forget(sr, key);
	log_info("SR %s: destroyed volume %s", sr->sr, key);
	/* The collector has work only where a parent is left with a single
	 * referent (the two can be coalesced), an image with the sweep, or
	 * a journal record (a removal left to it, or one a crash left).
	 * Where images are removed here, deleting many volumes must not
	 * start a collector for each. */
	if (left == 1 || !removed || sr->meta->njournal)
		ops_gc_kick(sr);
	return 0;
}

int ops_volume_destroy(const char *type, const char *sr_str, const char *key)
{
	struct ops_sr *sr;
	int rc;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = destroy_locked(sr, key);
	ops_sr_close(sr);
	return rc;
}

int ops_volume_lookup_meta(struct ops_sr *sr, const char *key, struct ops_volume_info *out)
{
	struct meta_volume *v;
	struct meta_node *n;

	memset(out, 0, sizeof *out);
	if (ops_find_volume(sr, key, &v) < 0)
		return -1;
	if (meta_node_find(sr->meta, v->node, &n) < 0)
		return err_errnum() == ENOENT ? err_corrupt("SR %s: volume %s has no node", sr->sr, key) : -1;
	if (strlen(n->image) >= sizeof out->image)
		return err_corrupt("SR %s: volume %s: image name too long", sr->sr, key);
	snprintf(out->key, sizeof out->key, "%s", v->key);
	snprintf(out->node, sizeof out->node, "%s", n->uuid);
	snprintf(out->image, sizeof out->image, "%s", n->image);
	out->sharable = v->sharable;
	out->read_write = v->read_write;
	out->virtual_size = n->virtual_size;
	return 0;
}

int ops_volume_lookup(struct ops_sr *sr, const char *key, struct ops_volume_info *out)
{
	if (ops_volume_lookup_meta(sr, key, out) < 0)
		return -1;
	return store_image_path(sr->store, out->image, out->image_path, sizeof out->image_path);
}
