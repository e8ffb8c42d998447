/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/volume_tree: Volume.snapshot and Volume.clone, which grow the
 * snapshot tree.
 *
 * A volume's data is its leaf node and the leaf's parents.  A writable
 * leaf is never shared.  Snapshot and clone make the volume's leaf L an
 * immutable (hidden) interior node:
 *   - a writable volume gets a new, empty leaf whose parent is L;
 *   - a snapshot is a read-only volume whose node is L itself;
 *   - a clone is a writable volume with a new, empty leaf on L.
 * Of a read-only volume (L already immutable) a snapshot shares L and a
 * clone adds one leaf on it.
 *
 * Crash ordering: the new leaves' images are written first, then one
 * metadata commit switches everything at once.  Killed before the commit
 * the SR is as it was, plus images the sweep sets aside; after it, the
 * new tree is whole.  When the volume is being served, its server is
 * paused before the commit (nothing may reach L once L belongs to a
 * snapshot), moved onto the new leaf after it, and resumed. */
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lq/datapath.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/qcow2.h"
#include "lq/store.h"
#include "lq/uuid.h"
#include "ops-int.h"

enum tree_op { TREE_SNAPSHOT, TREE_CLONE };

struct new_leaf {
	char node[UUID_STR_LEN];
	char image[256];
	bool written;
};

/* Nodes from uuid up to the root; fails past the cap instead of walking
 * a damaged (cyclic) tree for ever. */
static int tree_depth(struct ops_sr *sr, const char *uuid, unsigned *depth)
{
	struct meta_node *n;

	*depth = 0;
	for (const char *cur = uuid; cur; cur = n->parent) {
		if (++*depth > OPS_CHAIN_MAX + 1)
			return err_corrupt("SR %s: the chain above node %s is deeper than %u",
					   sr->sr, uuid, OPS_CHAIN_MAX);
		if (meta_node_find(sr->meta, cur, &n) < 0)
			return err_errnum() == ENOENT
				       ? err_corrupt("SR %s: node %s is missing", sr->sr, cur)
				       : -1;
	}
	return 0;
}

static int tree_check_depth(struct ops_sr *sr, const struct meta_volume *v)
{
	unsigned depth;

	if (tree_depth(sr, v->node, &depth) < 0)
		return -1;
	if (depth + 1 > OPS_CHAIN_MAX)
		return err_xapi(XERR_INVALID,
				"volume %s: its chain is %u images deep and may not exceed %u; "
				"let the garbage collector shorten it first", v->key, depth,
				OPS_CHAIN_MAX);
	return 0;
}

/* An empty image of the parent's size backed by it.  The name in its
 * header is informational: chains are opened as the metadata names them. */
static int leaf_write(struct ops_sr *sr, const struct meta_node *parent, struct new_leaf *l)
{
	struct qcow2_create_opts o = {
		.size = parent->virtual_size, .compat = 3,
		.backing = parent->image, .backing_fmt = "qcow2",
	};

	if (uuid_generate(l->node) < 0 ||
	    ops_node_alloc(sr, l->node, ops_node_room(parent->virtual_size), l->image,
			   sizeof l->image) < 0)
		return -1;
	l->written = true;
	return ops_image_write_new(sr, l->image, &o);
}

static void leaf_unwrite(struct ops_sr *sr, struct new_leaf *l)
{
	if (l->written && store_node_remove(sr->store, l->image) < 0)
		log_warn("SR %s: %s (the sweep will retry)", sr->sr, err_last()->msg);
	l->written = false;
}

static int leaf_add(struct ops_sr *sr, const struct new_leaf *l, const struct meta_node *parent)
{
	struct meta_node *n = meta_node_add(sr->meta, l->node);

	if (!n || meta_set_str(&n->image, l->image) < 0 || meta_set_str(&n->parent, parent->uuid) < 0)
		return -1;
	n->virtual_size = parent->virtual_size;
	return 0;
}

/* The snapshot or clone: the source's name, description and sharing. */
static int result_add(struct ops_sr *sr, const struct meta_volume *src, const char *node,
		      bool read_write, char key[UUID_STR_LEN])
{
	struct meta_volume *v;

	if (uuid_generate(key) < 0 || !(v = meta_volume_add(sr->meta, key)))
		return -1;
	if (meta_set_str(&v->uuid, key) < 0 || meta_set_str(&v->node, node) < 0 ||
	    meta_set_str(&v->name, src->name) < 0 ||
	    meta_set_str(&v->description, src->description) < 0)
		return -1;
	v->sharable = src->sharable;
	v->read_write = read_write;
	return 0;
}

/* Pause, commit, move the server onto the new leaf, resume.  If the
 * move fails after the commit the server stays paused: resuming it on
 * the old leaf would write into the snapshot. */
static int commit_live(struct ops_sr *sr, const char *key, bool *committed)
{
	bool paused;

	if (ops_datapath_pause(sr, key, &paused) < 0)
		return -1;
	if (ops_sr_commit(sr) < 0) {
		struct err_record saved = *err_last();
		if (paused)
			ops_datapath_resume(sr, key);
		err_restore(&saved);
		return -1;
	}
	*committed = true;
	fault_point("volume-tree.committed");
	if (paused && ops_datapath_reopen_paused(sr, key) < 0) {
		log_error("SR %s: volume %s stays paused: its server could not move to the new "
			  "leaf: %s", sr->sr, key, err_last()->msg);
		return -1;
	}
	return paused ? ops_datapath_resume(sr, key) : 0;
}

struct tree_change {
	enum tree_op op;
	struct meta_volume *v;
	struct meta_node *base;     /* the volume's leaf before the change */
	struct new_leaf own, out;   /* the volume's new leaf, the clone's */
	char key[UUID_STR_LEN];     /* the result volume */
	bool committed;
};

/* A guest writing the volume writes its new leaf from the commit on, so
 * that leaf gets its full room first. */
static int tree_write_images(struct ops_sr *sr, struct tree_change *c)
{
	if (c->v->read_write && leaf_write(sr, c->base, &c->own) < 0)
		return -1;
	if (c->v->read_write && ops_datapath_attached(c->v->key) &&
	    ops_fit_full(sr, c->own.image, 0) < 0)
		return -1;
	if (c->op == TREE_CLONE && leaf_write(sr, c->base, &c->out) < 0)
		return -1;
	fault_point("volume-tree.images-written");
	return 0;
}

static int tree_link(struct ops_sr *sr, struct tree_change *c)
{
	c->base->hidden = true;
	if (c->v->read_write &&
	    (leaf_add(sr, &c->own, c->base) < 0 || meta_set_str(&c->v->node, c->own.node) < 0))
		return -1;
	if (c->op == TREE_CLONE && leaf_add(sr, &c->out, c->base) < 0)
		return -1;
	return result_add(sr, c->v, c->op == TREE_CLONE ? c->out.node : c->base->uuid,
			  c->op == TREE_CLONE, c->key);
}

static int tree_locked(struct ops_sr *sr, const char *key, enum tree_op op,
		       struct json_object **result)
{
	struct tree_change c = { .op = op };
	struct meta_volume *nv;

	if (ops_find_volume(sr, key, &c.v) < 0 || tree_check_depth(sr, c.v) < 0 ||
	    meta_node_find(sr->meta, c.v->node, &c.base) < 0)
		return -1;
	bool rw = c.v->read_write;
	char old_leaf[256];
	snprintf(old_leaf, sizeof old_leaf, "%s", c.base->image);
	if (tree_write_images(sr, &c) < 0 || tree_link(sr, &c) < 0 ||
	    commit_live(sr, key, &c.committed) < 0)
		goto fail;
	log_info("SR %s: %s of volume %s is volume %s", sr->sr,
		 op == TREE_CLONE ? "clone" : "snapshot", key, c.key);
	/* The old leaf is a parent now: nothing writes it any more. */
	if (rw)
		ops_fit_end_quietly(sr, old_leaf);
	ops_gc_kick(sr);
	return ops_find_volume(sr, c.key, &nv) < 0 ? -1 : ops_volume_json(sr, nv, result);
fail:
	{
		struct err_record saved = *err_last();
		/* After the commit the new images are the volume's own. */
		if (!c.committed) {
			leaf_unwrite(sr, &c.own);
			leaf_unwrite(sr, &c.out);
		}
		err_restore(&saved);
	}
	return -1;
}

static int tree_op(const char *type, const char *sr_str, const char *key, enum tree_op op,
		   struct json_object **result)
{
	struct ops_sr *sr;
	int rc;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = tree_locked(sr, key, op, result);
	ops_sr_close(sr);
	return rc;
}

int ops_volume_snapshot(const char *type, const char *sr, const char *key,
			struct json_object **result)
{
	return tree_op(type, sr, key, TREE_SNAPSHOT, result);
}

int ops_volume_clone(const char *type, const char *sr, const char *key,
		     struct json_object **result)
{
	return tree_op(type, sr, key, TREE_CLONE, result);
}

/* ---- Volume.compose ------------------------------------------------------ */

/* The base of a chain, and the chain's depth. */
static int tree_root(struct ops_sr *sr, const char *leaf, struct meta_node **root, unsigned *depth)
{
	if (tree_depth(sr, leaf, depth) < 0 || meta_node_find(sr->meta, leaf, root) < 0)
		return -1;
	while ((*root)->parent)
		if (meta_node_find(sr->meta, (*root)->parent, root) < 0)
			return -1;
	return 0;
}

static bool tree_contains(struct ops_sr *sr, const char *leaf, const char *uuid)
{
	struct meta_node *n;

	for (const char *cur = leaf; cur && meta_node_find(sr->meta, cur, &n) == 0; cur = n->parent)
		if (!strcmp(cur, uuid))
			return true;
	return false;
}

/* The parent volume's data of this moment, made immutable: its leaf,
 * after giving a writable parent volume a new leaf of its own. */
static int compose_base(struct ops_sr *sr, struct meta_volume *pv, struct new_leaf *own,
			struct meta_node **base)
{
	if (meta_node_find(sr->meta, pv->node, base) < 0)
		return -1;
	(*base)->hidden = true;
	if (!pv->read_write)
		return 0;
	if (leaf_write(sr, *base, own) < 0 || leaf_add(sr, own, *base) < 0)
		return -1;
	return meta_set_str(&pv->node, own->node);
}

static int compose_check(struct ops_sr *sr, struct meta_volume *cv, struct meta_volume *pv,
			 struct meta_node **root)
{
	unsigned dc, dp;

	if (!strcmp(cv->key, pv->key))
		return err_xapi(XERR_INVALID, "volume %s cannot be composed with itself", cv->key);
	/* Its base changes under it: not while a server reads it. */
	if (ops_datapath_attached(cv->key))
		return err_xapi(XERR_VDI_IN_USE, "volume %s is attached", cv->key);
	if (tree_root(sr, cv->node, root, &dc) < 0 || tree_depth(sr, pv->node, &dp) < 0)
		return -1;
	if (tree_contains(sr, pv->node, (*root)->uuid))
		return err_xapi(XERR_INVALID, "volumes %s and %s already share their base",
				cv->key, pv->key);
	if (dc + dp + 1 > OPS_CHAIN_MAX)
		return err_xapi(XERR_INVALID, "composing %s on %s would make a chain %u images "
				"deep; the limit is %u", cv->key, pv->key, dc + dp + 1, OPS_CHAIN_MAX);
	return 0;
}

/* The child's data goes on top of the parent's: the base of the child's
 * chain gets the parent's data of this moment as its backing, so what the
 * child never wrote reads as the parent.  One commit with a relink record
 * (the base's header is rewritten after it). */
static int compose_locked(struct ops_sr *sr, const char *child, const char *parent)
{
	struct meta_volume *cv, *pv;
	struct meta_node *root, *base;
	struct new_leaf own = { 0 };
	bool committed = false;

	if (ops_find_volume(sr, child, &cv) < 0 || ops_find_volume(sr, parent, &pv) < 0 ||
	    compose_check(sr, cv, pv, &root) < 0)
		return -1;
	if (compose_base(sr, pv, &own, &base) < 0 || meta_set_str(&root->parent, base->uuid) < 0 ||
	    ops_relink_journal(sr, root->uuid) < 0 || commit_live(sr, parent, &committed) < 0) {
		struct err_record saved = *err_last();
		if (!committed)
			leaf_unwrite(sr, &own);
		err_restore(&saved);
		return -1;
	}
	fault_point("volume-compose.committed");
	log_info("SR %s: volume %s composed on volume %s", sr->sr, child, parent);
	ops_gc_kick(sr);
	return ops_sr_journal_replay(sr);
}

int ops_volume_compose(const char *type, const char *sr_str, const char *child,
		       const char *parent)
{
	struct ops_sr *sr;
	int rc;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = compose_locked(sr, child, parent);
	ops_sr_close(sr);
	return rc;
}
