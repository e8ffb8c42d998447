/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/volume_resize: Volume.resize (grow only) and the replay of an
 * interrupted one.
 *
 * The image and the metadata cannot change in one step, so the change is
 * journaled: commit a "resize" record {node, size}; grow the leaf image;
 * commit the node's new size with the record removed.  Killed anywhere,
 * the record is still there and SR.attach finishes the job (growing is
 * idempotent: an image already at the size is left alone), so the image
 * and the metadata agree again.  Parents keep their size: reads past a
 * backing image's end are zeros. */
#include <inttypes.h>
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
#include "lq/nbd.h"
#include "lq/qcow2.h"
#include "lq/store.h"
#include "lq/uuid.h"
#include "gc-int.h"
#include "ops-int.h"


/* The leaf opened writable on the chain the metadata names: the engine
 * zeroes the grown range only where a parent would show through (none
 * does while parents are never larger than their children), which it can
 * tell only with the parents open. */
static int open_leaf(struct ops_sr *sr, const struct meta_node *n, struct qcow2_image **img)
{
	char path[PATH_MAX], (*below)[PATH_MAX] = calloc(NBD_MAX_CHAIN, PATH_MAX);
	struct qcow2_backing b[NBD_MAX_CHAIN];
	const struct meta_node *cur = n;
	struct meta_node *up;
	size_t k = 0;
	int rc = -1;

	if (!below)
		return err_set(ENOMEM, "out of memory");
	if (store_image_path(sr->store, n->image, path, sizeof path) < 0)
		goto out;
	for (; cur->parent; cur = up, k++) {
		if (k == NBD_MAX_CHAIN) {
			err_set(EINVAL, "node %s: chain deeper than %d", n->uuid, NBD_MAX_CHAIN);
			goto out;
		}
		if (meta_node_find(sr->meta, cur->parent, &up) < 0 ||
		    store_image_path(sr->store, up->image, below[k], PATH_MAX) < 0)
			goto out;
		b[k] = (struct qcow2_backing){ .path = below[k] };
	}
	rc = qcow2_open_chain(path, b, k, QCOW2_OPEN_RDWR, img);
out:
	free(below);
	return rc;
}

/* Grow the image to at least size; an image already there is left.
 * Its room (where the store sizes images) first grows for the new
 * metadata, and for the new data too if a guest writes it; after, an
 * image nobody writes gives the spare room back. */
static int resize_image(struct ops_sr *sr, const struct meta_node *n, uint64_t size)
{
	struct qcow2_image *img;
	struct qcow2_info info;
	bool written;
	int rc;

	if (gc_node_written(sr, n, &written) < 0 ||
	    (written ? ops_fit_full(sr, n->image, size) : ops_fit_room(sr, n->image, size, 0)) < 0 ||
	    open_leaf(sr, n, &img) < 0)
		return -1;
	rc = qcow2_get_info(img, &info);
	if (rc == 0 && info.virtual_size < size)
		rc = qcow2_resize(img, size);
	if (qcow2_close(img) < 0)
		rc = -1;
	if (rc == 0 && !written)
		ops_fit_end_quietly(sr, n->image);
	return rc;
}

static int resize_journal(struct ops_sr *sr, const char *node, uint64_t size, char id[UUID_STR_LEN])
{
	struct meta_journal *j;
	char num[24];

	snprintf(num, sizeof num, "%" PRIu64, size);
	if (!(j = ops_journal_new(sr, OPS_RESIZE_OP)) || meta_journal_set_arg(j, "node", node) < 0 ||
	    meta_journal_set_arg(j, "size", num) < 0)
		return -1;
	snprintf(id, UUID_STR_LEN, "%s", j->id);
	return ops_sr_commit(sr);
}

/* The image is grown; record it and drop the journal in one commit. */
static int resize_finish(struct ops_sr *sr, struct meta_node *n, uint64_t size, const char *id)
{
	if (size > n->virtual_size)
		n->virtual_size = size;
	if (meta_journal_remove(sr->meta, id) < 0)
		return -1;
	return ops_sr_commit(sr);
}

static int check_grow(const struct meta_volume *v, const struct meta_node *n, int64_t new_size,
		      uint64_t *size)
{
	if (!v->read_write)
		return err_xapi(XERR_INVALID, "volume %s is read-only", v->key);
	if (ops_check_size(new_size, size) < 0)
		return -1;
	if (*size < n->virtual_size)
		return err_xapi(XERR_INVALID_SIZE, "volume %s is %" PRIu64 " bytes; shrinking it to %"
				PRIu64 " is not supported", v->key, n->virtual_size, *size);
	return 0;
}

static int resize_locked(struct ops_sr *sr, const char *key, int64_t new_size)
{
	char id[UUID_STR_LEN];
	struct meta_volume *v;
	struct meta_node *n;
	uint64_t size;
	bool paused = false;
	int rc;

	if (ops_find_volume(sr, key, &v) < 0 || meta_node_find(sr->meta, v->node, &n) < 0 ||
	    check_grow(v, n, new_size, &size) < 0)
		return -1;
	if (size == n->virtual_size)
		return 0;
	if (ops_gc_yield(sr, key) < 0 || ops_datapath_pause(sr, key, &paused) < 0)
		return -1;
	rc = resize_journal(sr, n->uuid, size, id);
	if (rc == 0) {
		fault_point("volume-resize.journaled");
		rc = resize_image(sr, n, size);
	}
	if (rc == 0) {
		fault_point("volume-resize.image-grown");
		rc = resize_finish(sr, n, size, id);
	}
	/* The server rereads the grown image (or, after a failure, the
	 * unchanged one) before it serves again. */
	if (paused && ops_datapath_reopen_paused(sr, key) < 0)
		rc = -1;
	if (paused && ops_datapath_resume(sr, key) < 0)
		rc = -1;
	if (rc == 0)
		log_info("SR %s: volume %s grown to %" PRIu64 " bytes", sr->sr, key, size);
	return rc;
}

int ops_volume_resize(const char *type, const char *sr_str, const char *key, int64_t new_size)
{
	struct ops_sr *sr;
	int rc;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = resize_locked(sr, key, new_size);
	ops_sr_close(sr);
	return rc;
}

/* ---- replay at SR.attach ---------------------------------------------- */

int ops_resize_replay(struct ops_sr *sr, const struct meta_journal *j)
{
	const char *node = meta_journal_get_arg(j, "node"), *num = meta_journal_get_arg(j, "size");
	struct meta_node *n;
	char *end;
	uint64_t size;
	bool busy;

	if (!node || !num || !*num || (size = strtoull(num, &end, 10), *end) ||
	    size > QCOW2_MAX_VIRTUAL_SIZE)
		return err_corrupt("SR %s: journal record %s: bad resize arguments", sr->sr, j->id);
	if (meta_node_find(sr->meta, node, &n) < 0) {
		if (err_errnum() != ENOENT)
			return -1;
		return meta_journal_remove(sr->meta, j->id); /* the node went since */
	}
	/* A grow killed half-way may have leaked its new L1 table: freed
	 * here when nothing writes the leaf (see gc-copy.c). */
	if (resize_image(sr, n, size) < 0 || gc_repair_leaks(sr, node, &busy) < 0)
		return -1;
	if (size > n->virtual_size)
		n->virtual_size = size;
	log_info("SR %s: finished an interrupted resize of node %s to %" PRIu64 " bytes", sr->sr,
		 node, size);
	return meta_journal_remove(sr->meta, j->id);
}
