/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stream.c: qcow2_stream, the live downward merge.  The image's first
 * backing image B is walked alone (qcow2_map); for every run B holds
 * (data, compressed or zero), the image's clusters over that run are
 * taken in batches: a data batch is read from the chain below the image
 * without any lock of the image (B and what lies below it never change
 * while they are backing images), then, under the image's exclusive
 * lock, each cluster that is still unallocated in the image gets that
 * content (or the zero flag, for a cluster wholly inside a zero run).  A
 * cluster the image holds by then, because a guest write got there
 * first, is left alone; a guest write that comes later finds the cluster
 * allocated and simply overwrites it.  Either way the guest view never
 * changes.  Clusters are the image's own, so cluster sizes may differ
 * between the image and B.  The data written is synced before return,
 * outside the lock, so that the caller's flush stalls the guest little.
 */
#include <stdlib.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

/* Bounds the time guest I/O waits for one locked batch. */
#define STREAM_BATCH (256u << 10)
#define STREAM_MAP_MAX 64

struct stream {
	struct qcow2_image *img;
	uint64_t end;               /* of the range streamed */
	uint8_t *buf;               /* STREAM_BATCH, or one cluster if larger */
	uint64_t batch;             /* clusters per batch */
	uint64_t bytes;
};

/* Guest bytes of cluster vc that exist (the last one may be short). */
static uint64_t cluster_len(const struct qcow2_image *img, uint64_t vc)
{
	uint64_t cg = vc << img->cbits;

	return MIN((uint64_t)img->cs, img->h.size - cg);
}

/* Whether the image still has nothing of its own at cluster vc. */
static int unallocated(struct qcow2_image *img, uint64_t vc, bool *yes)
{
	uint64_t e, bm, host;
	enum qcow2_ctype t;

	if (qcow2_l2_lookup(img, vc, &e, &bm) < 0)
		return -1;
	t = qcow2_l2_classify(img, e, bm, 0, &host);
	if (t == QCOW2_C_INVALID)
		return qcow2_err_corrupt(img, "%s: invalid L2 entry 0x%llx", img->path,
					 (unsigned long long)e);
	*yes = t == QCOW2_C_UNALLOCATED;
	return 0;
}

/* Under the exclusive lock: fill clusters [vc, vc+n) that are still
 * empty, from buf (data) or with zeros (buf NULL).  Runs of empty
 * clusters are written in one call. */
static int fill_locked(struct stream *st, uint64_t vc, uint64_t n, const uint8_t *buf)
{
	struct qcow2_image *img = st->img;
	uint64_t k = 0;

	while (k < n) {
		uint64_t m = 0, off = (vc + k) << img->cbits, len = 0;
		bool empty;
		int r;

		while (k + m < n) {
			if (unallocated(img, vc + k + m, &empty) < 0)
				return -1;
			if (!empty)
				break;
			len += cluster_len(img, vc + k + m);
			m++;
		}
		if (m == 0) {
			k++;
			continue;
		}
		r = buf ? qcow2_write_locked(img, buf + (k << img->cbits), len, off)
			: qcow2_zero_locked(img, off, len);
		if (r < 0)
			return -1;
		if (buf)
			st->bytes += len;
		k += m;
	}
	return 0;
}

static int fill(struct stream *st, uint64_t vc, uint64_t n, bool zero)
{
	struct qcow2_image *img = st->img;
	uint64_t off = vc << img->cbits, len = 0;

	for (uint64_t k = 0; k < n; k++)
		len += cluster_len(img, vc + k);
	if (!zero && qcow2_read_below(img->backing, st->buf, len, off) < 0)
		return -1;
	if (qcow2_begin_change(img) < 0)
		return -1;
	return qcow2_end_change(img, fill_locked(st, vc, n, zero ? NULL : st->buf));
}

/* Cluster vc lies wholly inside the run [lo, hi). */
static bool inside(const struct qcow2_image *img, uint64_t vc, uint64_t lo, uint64_t hi)
{
	uint64_t cg = vc << img->cbits;

	return cg >= lo && cg + cluster_len(img, vc) <= hi;
}

/* The image's clusters over one run of the backing image: edge clusters
 * only partly in a zero run are copied as data (what the chain shows
 * there, zeros included). */
static int stream_run(struct stream *st, const struct qcow2_map_entry *e)
{
	struct qcow2_image *img = st->img;
	uint64_t hi = MIN(e->off + e->len, st->end);
	uint64_t vc = e->off >> img->cbits, last = (hi - 1) >> img->cbits;

	while (vc <= last) {
		bool zero = e->kind == QCOW2_MAP_ZERO && inside(img, vc, e->off, hi);
		uint64_t n = 1;

		while (vc + n <= last && n < st->batch &&
		       (e->kind == QCOW2_MAP_ZERO && inside(img, vc + n, e->off, hi)) == zero)
			n++;
		if (fill(st, vc, n, zero) < 0)
			return -1;
		vc += n;
	}
	return 0;
}

static int stream_all(struct stream *st, uint64_t off)
{
	struct qcow2_map_entry ent[STREAM_MAP_MAX];

	while (off < st->end) {
		int n = qcow2_map(st->img->backing, off, st->end - off, ent, STREAM_MAP_MAX);
		if (n < 0)
			return -1;
		if (n == 0)
			return err_set(EIO, "empty map at offset %llu", (unsigned long long)off);
		for (int i = 0; i < n; i++) {
			if (ent[i].kind != QCOW2_MAP_UNALLOCATED && stream_run(st, &ent[i]) < 0)
				return -1;
			off = ent[i].off + ent[i].len;
		}
	}
	return 0;
}

static int stream_check(struct qcow2_image *img, uint64_t off, uint64_t len)
{
	if (qcow2_check_write(img, off, len) < 0)
		return -1;
	if (img->extl2)
		return err_set(ENOTSUP, "%s: extended L2 images are read-only", img->path);
	if (!img->backing)
		return err_set(EINVAL, "%s: no backing image opened to stream from", img->path);
	if (img->backing->raw)
		return err_set(ENOTSUP, "%s: streaming from a raw backing file", img->path);
	return 0;
}

int qcow2_stream(struct qcow2_image *img, uint64_t off, uint64_t len, uint64_t *bytes)
{
	struct stream st = { .img = img };
	int rc;

	if (stream_check(img, off, len) < 0)
		return -1;
	/* Past the backing image's end the image reads zeros: nothing to take. */
	st.end = MIN(off + len, qcow2_vsize(img->backing));
	st.batch = MAX(1u, STREAM_BATCH >> img->cbits);
	if (!(st.buf = dio_alloc(st.batch << img->cbits)))
		return err_set(ENOMEM, "out of memory");
	rc = st.end > off ? stream_all(&st, off) : 0;
	/* Sync the data written without the lock: a flush (which holds it,
	 * and so stalls guest I/O) then has only metadata left to sync. */
	if (rc == 0 && st.bytes && qcow2_io_sync(img->fd) < 0)
		rc = -1;
	free(st.buf);
	if (rc == 0 && bytes)
		*bytes = st.bytes;
	return rc;
}
