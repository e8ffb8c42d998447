/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend-qcow2: the volume's qcow2 chain through the engine.  The
 * engine is thread-safe on one handle, so every worker calls it
 * directly.  FAST_ZERO is granted only where the engine can zero by
 * metadata alone: whole clusters of a version 3 image. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/qcow2.h"
#include "nbd-int.h"

struct qb {
	struct qcow2_image *img;
	uint32_t cluster_size;
	int version;
};

static struct qcow2_image *img_of(struct nbd_backend *b)
{
	return ((struct qb *)b->priv)->img;
}

static int q_pread(struct nbd_backend *b, void *buf, uint64_t len, uint64_t off)
{
	return qcow2_pread(img_of(b), buf, len, off);
}

static int q_pwrite(struct nbd_backend *b, const void *buf, uint64_t len, uint64_t off)
{
	return qcow2_pwrite(img_of(b), buf, len, off);
}

static bool zero_is_fast(const struct qb *q, uint64_t off, uint64_t len)
{
	return q->version >= 3 && IS_ALIGNED(off, q->cluster_size) &&
	       IS_ALIGNED(len, q->cluster_size);
}

static int q_zero(struct nbd_backend *b, uint64_t off, uint64_t len, bool may_unmap, bool fast)
{
	struct qb *q = b->priv;

	if (fast && !zero_is_fast(q, off, len))
		return err_set(ENOTSUP, "zeroing %llu+%llu needs data writes",
			       (unsigned long long)off, (unsigned long long)len);
	return qcow2_pzero(q->img, off, len, may_unmap ? QCOW2_ZERO_MAY_UNMAP : 0);
}

static int q_trim(struct nbd_backend *b, uint64_t off, uint64_t len)
{
	return qcow2_discard(img_of(b), off, len);
}

static int q_flush(struct nbd_backend *b)
{
	return qcow2_flush(img_of(b));
}

static int q_block_status(struct nbd_backend *b, uint64_t off, uint64_t len,
			  struct nbd_extent *ext, int max)
{
	struct qcow2_extent qe[64];
	int n = qcow2_block_status(img_of(b), off, len, qe, MIN(max, (int)ARRAY_SIZE(qe)));

	for (int i = 0; i < n; i++)
		ext[i] = (struct nbd_extent){
			.off = qe[i].off,
			.len = qe[i].len,
			.flags = (qe[i].flags & QCOW2_EXT_HOLE ? NBD_STATE_HOLE : 0) |
				 (qe[i].flags & QCOW2_EXT_ZERO ? NBD_STATE_ZERO : 0),
		};
	return n;
}

static int q_stream(struct nbd_backend *b, uint64_t off, uint64_t len, uint64_t *bytes)
{
	return qcow2_stream(img_of(b), off, len, bytes);
}

static int q_sync(struct nbd_backend *b)
{
	return qcow2_sync_data(img_of(b));
}

static int q_close(struct nbd_backend *b)
{
	struct qb *q = b->priv;
	int r = qcow2_close(q->img);

	free(q);
	return r;
}

static const struct nbd_backend_ops qcow2_ops = {
	.pread = q_pread,
	.pwrite = q_pwrite,
	.zero = q_zero,
	.trim = q_trim,
	.flush = q_flush,
	.block_status = q_block_status,
	.close = q_close,
	.stream = q_stream,
	.sync = q_sync,
};

static int describe(struct qb *q, struct nbd_backend *b)
{
	/* Cheap accessors: qcow2_get_info would scan every L2 table. */
	q->cluster_size = qcow2_cluster_size(q->img);
	q->version = qcow2_version(q->img);
	b->size = qcow2_virtual_size(q->img);
	return 0;
}

/* The one place the served chain is opened: exactly the images of ch,
 * as the metadata names them; the engine never reads a backing name
 * from a header here. */
static int open_chain(const struct nbd_chain *ch, int flags, struct qcow2_image **out)
{
	struct qcow2_backing links[NBD_MAX_CHAIN];

	assert(ch->n <= NBD_MAX_CHAIN);
	/* A base node: whatever its header names, nothing lies beneath it. */
	if (ch->n == 0)
		return qcow2_open(ch->top, flags | QCOW2_OPEN_NO_BACKING, out);
	for (size_t i = 0; i < ch->n; i++)
		links[i] = (struct qcow2_backing){ .path = ch->backing[i], .raw = false };
	return qcow2_open_chain(ch->top, links, ch->n, flags, out);
}

int nbd_backend_open_qcow2(const struct nbd_chain *ch, bool readonly, bool direct,
			   struct nbd_backend *b)
{
	struct qb *q = calloc(1, sizeof *q);

	if (!q)
		return err_set(ENOMEM, "out of memory");
	if (open_chain(ch, (readonly ? 0 : QCOW2_OPEN_RDWR) | (direct ? QCOW2_OPEN_DIRECT : 0),
		       &q->img) < 0) {
		free(q);
		return -1;
	}
	if (describe(q, b) < 0) {
		qcow2_close(q->img);
		free(q);
		return -1;
	}
	b->ops = &qcow2_ops;
	b->priv = q;
	return 0;
}
