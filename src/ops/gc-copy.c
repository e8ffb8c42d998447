/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/gc-copy: clusters leaked by a killed coalesce copy.
 *
 * A copy allocates clusters in its target image (the parent going up,
 * the child going down); a process killed between an allocation and the
 * table write that references it leaves the cluster counted but unused.
 * The copy never changes a guest view, so such leaks harm nothing but
 * space, yet nothing would ever free them.  So the copy is journaled: a
 * "gc-copy" record naming both nodes of the pair is committed before the
 * copy starts and dropped in the commit that switches the tree.  A record
 * found by a replay belongs to a copy that died; both images are then
 * checked and their leaks freed (qcow2_check with QCOW2_REPAIR_LEAKS,
 * which writes new refcount structures and switches to them in one
 * header write, so a crash during the repair is harmless too).
 *
 * A repair rewrites refcounts, so it runs only on an image nothing
 * writes: a hidden node (readers do not use refcounts), or the leaf of a
 * volume that is not attached; and only while no collector can be
 * copying (the SR lock is held, so no new copy starts; the collector
 * lock tells whether one is under way).  Otherwise the record waits for
 * a later replay. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lq/datapath.h"
#include "lq/err.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/qcow2.h"
#include "lq/store.h"
#include "gc-int.h"
#include "ops-int.h"

int gc_copy_journal(struct ops_sr *sr, const struct meta_node *n, const struct meta_node *p,
		    char id[UUID_STR_LEN])
{
	struct meta_journal *j = ops_journal_new(sr, GC_COPY_OP);

	if (!j || meta_journal_set_arg(j, "node", n->uuid) < 0 ||
	    meta_journal_set_arg(j, "parent", p->uuid) < 0)
		return -1;
	snprintf(id, UUID_STR_LEN, "%s", j->id);
	return 0;
}

struct leaf_of {
	const char *node;
	char key[UUID_STR_LEN];
	bool writable;
};

static int find_leaf(struct meta_sr *m, struct meta_volume *v, struct meta_node *leaf, void *arg)
{
	struct leaf_of *l = arg;

	(void)m;
	(void)leaf;
	if (strcmp(v->node, l->node))
		return 0;
	snprintf(l->key, sizeof l->key, "%s", v->key);
	l->writable = v->read_write;
	return 0;
}

/* Could a server be writing this node's image right now? */
int gc_node_written(struct ops_sr *sr, const struct meta_node *n, bool *written)
{
	struct leaf_of l = { .node = n->uuid };

	*written = false;
	if (n->hidden)
		return 0;
	if (meta_volume_each(sr->meta, find_leaf, &l) < 0)
		return -1;
	*written = l.writable && ops_datapath_attached(l.key);
	return 0;
}

static void repair_image(struct ops_sr *sr, const struct meta_node *n)
{
	struct qcow2_check_result r;
	char path[PATH_MAX];
	int rc;

	/* New refcount structures are written before the old are freed. */
	if (store_image_path(sr->store, n->image, path, sizeof path) < 0 ||
	    ops_fit_room(sr, n->image, 0, 0) < 0) {
		log_warn("SR %s: node %s: %s", sr->sr, n->uuid, err_last()->msg);
		return;
	}
	memset(&r, 0, sizeof r);
	rc = qcow2_check(path, QCOW2_REPAIR_LEAKS, &r);
	if (r.leaks_fixed)
		log_info("SR %s: node %s: freed %llu leaked clusters", sr->sr, n->uuid,
			 (unsigned long long)r.leaks_fixed);
	if (rc != QCOW2_CHECK_CLEAN)
		log_warn("SR %s: node %s: the image does not check clean after the leak repair "
			 "(qemu-img check status %d%s%s)", sr->sr, n->uuid, rc, r.msg[0] ? ": " : "",
			 r.msg);
	ops_fit_end_quietly(sr, n->image);
}

/* The file past the image end holds nothing: give it back. */
static void trim_image(struct ops_sr *sr, const struct meta_node *n)
{
	struct qcow2_image *img;
	char path[PATH_MAX];
	uint64_t freed = 0;

	if (store_image_path(sr->store, n->image, path, sizeof path) < 0 ||
	    qcow2_open(path, QCOW2_OPEN_RDWR | QCOW2_OPEN_NO_BACKING, &img) < 0) {
		log_warn("SR %s: node %s: space not given back: %s", sr->sr, n->uuid,
			 err_last()->msg);
		return;
	}
	if (qcow2_trim(img, &freed) < 0)
		log_warn("SR %s: node %s: space not given back: %s", sr->sr, n->uuid,
			 err_last()->msg);
	else if (freed)
		log_info("SR %s: node %s: gave back %llu bytes past its image end", sr->sr, n->uuid,
			 (unsigned long long)freed);
	if (qcow2_close(img) < 0)
		log_warn("SR %s: node %s: closing after the trim: %s", sr->sr, n->uuid,
			 err_last()->msg);
	ops_fit_end_quietly(sr, n->image);
}

/* Runs fn on node's image if nothing may be writing it (a hidden node,
 * or the leaf of a volume that is not attached, and no other collector
 * running); else *busy.  Failures of fn are logged, never returned:
 * leaks and unreturned space harm no data, and a replay must not fail
 * (SR.attach depends on it) because of one. */
static int on_idle_node(struct ops_sr *sr, const char *node,
			void (*fn)(struct ops_sr *, const struct meta_node *), bool *busy)
{
	struct meta_node *n;
	bool written;
	int fd = -1, idle = 0;

	*busy = false;
	if (meta_node_find(sr->meta, node, &n) < 0)
		return err_errnum() == ENOENT ? 0 : -1; /* gone: its image with it */
	if (gc_node_written(sr, n, &written) < 0)
		return -1;
	if (!written && (idle = gc_lock_idle(sr->uuid, &fd)) < 0)
		log_warn("SR %s: node %s: repair put off: %s", sr->sr, node, err_last()->msg);
	if (written || idle <= 0) {
		*busy = true;
		return 0;
	}
	fn(sr, n);
	if (fd >= 0)
		close(fd);
	return 0;
}

int gc_repair_leaks(struct ops_sr *sr, const char *node, bool *busy)
{
	return on_idle_node(sr, node, repair_image, busy);
}

int gc_give_back(struct ops_sr *sr, const char *node)
{
	bool busy;

	return on_idle_node(sr, node, trim_image, &busy);
}

static int repair_pair(struct ops_sr *sr, const struct meta_journal *j, bool *busy)
{
	const char *node = meta_journal_get_arg(j, "node");
	const char *parent = meta_journal_get_arg(j, "parent");
	bool b1 = false, b2 = false;

	if (!node || !parent)
		return err_corrupt("SR %s: journal record %s: bad arguments", sr->sr, j->id);
	if (gc_repair_leaks(sr, node, &b1) < 0 || gc_repair_leaks(sr, parent, &b2) < 0)
		return -1;
	*busy = b1 || b2;
	return 0;
}

int gc_copy_replay(struct ops_sr *sr, const struct meta_journal *j)
{
	bool busy;

	if (repair_pair(sr, j, &busy) < 0)
		return -1;
	if (busy) {
		log_info("SR %s: journal record %s (a killed copy) left for later: its images are "
			 "in use", sr->sr, j->id);
		return 0;
	}
	return meta_journal_remove(sr->meta, j->id);
}

int gc_copy_abandon(struct ops_sr *sr, const char *id)
{
	struct meta_journal *j;
	bool busy;

	if (meta_journal_find(sr->meta, id, &j) < 0)
		return err_errnum() == ENOENT ? 0 : -1;
	if (repair_pair(sr, j, &busy) < 0)
		return -1;
	return meta_journal_remove(sr->meta, id);
}
