/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/relink: an image header's backing name made to follow the tree.
 *
 * Chains are opened as the metadata names them, never from headers, but
 * qcow2_open_chain requires each header to agree on whether a backing
 * file exists, and operators read headers with qemu-img: every change of
 * a node's parent is followed by ops_node_relink, journaled where a crash
 * could leave the two apart ("relink" records, finished by the replay). */
#include <limits.h>
#include <string.h>

#include "lq/err.h"
#include "lq/meta.h"
#include "lq/qcow2.h"
#include "lq/store.h"
#include "lq/uuid.h"
#include "ops-int.h"

static bool header_names(struct qcow2_image *img, const char *backing)
{
	struct qcow2_info info;

	return qcow2_get_info(img, &info) == 0 && !strcmp(info.backing, backing);
}

int ops_node_relink(struct ops_sr *sr, const char *uuid)
{
	struct meta_node *n, *p = NULL;
	struct qcow2_image *img;
	char path[PATH_MAX];
	int rc;

	if (meta_node_find(sr->meta, uuid, &n) < 0 ||
	    (n->parent && meta_node_find(sr->meta, n->parent, &p) < 0) ||
	    store_image_path(sr->store, n->image, path, sizeof path) < 0 ||
	    qcow2_open(path, QCOW2_OPEN_RDWR | QCOW2_OPEN_NO_BACKING, &img) < 0)
		return -1;
	rc = header_names(img, p ? p->image : "") ? 0
		: qcow2_set_backing(img, p ? p->image : NULL, p ? "qcow2" : NULL);
	return qcow2_close(img) < 0 ? -1 : rc;
}

int ops_relink_journal(struct ops_sr *sr, const char *uuid)
{
	struct meta_journal *j = ops_journal_new(sr, OPS_RELINK_OP);

	return j ? meta_journal_set_arg(j, "node", uuid) : -1;
}

int ops_relink_replay(struct ops_sr *sr, const struct meta_journal *j)
{
	const char *node = meta_journal_get_arg(j, "node");
	struct meta_node *n;

	if (!node)
		return err_corrupt("SR %s: journal record %s: no node", sr->sr, j->id);
	if (meta_node_find(sr->meta, node, &n) < 0) {
		/* a node gone since has nothing to relink */
		if (err_errnum() != ENOENT)
			return -1;
	} else if (ops_node_relink(sr, node) < 0) {
		return -1;
	}
	return meta_journal_remove(sr->meta, j->id);
}
