/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/gc-tree: one scan of an SR's nodes and volumes, the collector's view
 * of the tree.  The scan is O(objects); it runs under the SR lock at the
 * start of every step, never on a call's path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/meta.h"
#include "gc-int.h"
#include "ops-int.h"

static int grow(void *arr_p, size_t n, size_t size)
{
	void **arr = arr_p;
	void *g;

	if (n & (n - 1)) /* grow at powers of two */
		return 0;
	if (!(g = realloc(*arr, (n ? 2 * n : 16) * size)))
		return err_set(ENOMEM, "out of memory");
	*arr = g;
	return 0;
}

static int add_node(struct meta_sr *m, struct meta_node *n, void *arg)
{
	struct gc_tree *t = arg;
	struct gc_node *g;

	if (grow(&t->node, t->nnodes, sizeof *t->node) < 0)
		return -1;
	g = memset(&t->node[t->nnodes++], 0, sizeof *g);
	snprintf(g->uuid, sizeof g->uuid, "%s", n->uuid);
	snprintf(g->parent, sizeof g->parent, "%s", n->parent ? n->parent : "");
	snprintf(g->image, sizeof g->image, "%s", n->image);
	g->hidden = n->hidden;
	g->refs = n->refs;
	g->vsize = n->virtual_size;
	return 0;
}

static int add_vol(struct meta_sr *m, struct meta_volume *v, struct meta_node *leaf, void *arg)
{
	struct gc_tree *t = arg;
	struct gc_vol *g;

	if (grow(&t->vol, t->nvols, sizeof *t->vol) < 0)
		return -1;
	g = &t->vol[t->nvols++];
	snprintf(g->key, sizeof g->key, "%s", v->key);
	snprintf(g->node, sizeof g->node, "%s", v->node);
	g->read_write = v->read_write;
	return 0;
}

static int by_uuid(const void *a, const void *b)
{
	return strcmp(((const struct gc_node *)a)->uuid, ((const struct gc_node *)b)->uuid);
}

static int by_node(const void *a, const void *b)
{
	return strcmp(((const struct gc_vol *)a)->node, ((const struct gc_vol *)b)->node);
}

struct gc_node *gc_tree_node(const struct gc_tree *t, const char *uuid)
{
	struct gc_node key;

	if (!t->nnodes)
		return NULL;
	snprintf(key.uuid, sizeof key.uuid, "%s", uuid);
	return bsearch(&key, t->node, t->nnodes, sizeof *t->node, by_uuid);
}

struct gc_vol *gc_tree_vol_at(const struct gc_tree *t, const char *node)
{
	struct gc_vol key;

	if (!t->nvols)
		return NULL;
	snprintf(key.node, sizeof key.node, "%s", node);
	return bsearch(&key, t->vol, t->nvols, sizeof *t->vol, by_node);
}

bool gc_tree_below(const struct gc_tree *t, const char *node, const char *uuid)
{
	const struct gc_node *n = gc_tree_node(t, uuid);

	/* meta_check refused cycles at attach; the bound is for safety */
	for (size_t hops = 0; n && hops <= t->nnodes; hops++) {
		if (!strcmp(n->uuid, node))
			return true;
		n = n->parent[0] ? gc_tree_node(t, n->parent) : NULL;
	}
	return false;
}

static void count_children(struct gc_tree *t)
{
	for (size_t i = 0; i < t->nnodes; i++) {
		struct gc_node *p = t->node[i].parent[0] ? gc_tree_node(t, t->node[i].parent) : NULL;
		if (p)
			p->nchildren++;
	}
}

int gc_tree_load(struct ops_sr *sr, struct gc_tree *t)
{
	memset(t, 0, sizeof *t);
	if (meta_node_each(sr->meta, add_node, t) < 0 || meta_volume_each(sr->meta, add_vol, t) < 0) {
		gc_tree_free(t);
		return -1;
	}
	/* qsort and bsearch take no NULL array, even empty: an SR may
	 * have no nodes. */
	if (t->nnodes)
		qsort(t->node, t->nnodes, sizeof *t->node, by_uuid);
	if (t->nvols)
		qsort(t->vol, t->nvols, sizeof *t->vol, by_node);
	count_children(t);
	return 0;
}

void gc_tree_free(struct gc_tree *t)
{
	free(t->node);
	free(t->vol);
	memset(t, 0, sizeof *t);
}
