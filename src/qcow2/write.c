/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* write.c: guest writes.
 *
 * Fast path: when every cluster of the request is already this image's
 * own (NORMAL with COPIED: refcount 1), the data is written in place
 * under the shared io lock, in parallel with other reads and writes.
 * Otherwise the request runs under the exclusive io lock: clusters that
 * are not writable in place get new host clusters, allocated as one
 * contiguous run per stretch of such clusters so that later reads
 * coalesce; a partially covered cluster is first filled with its old
 * guest content (backing, zeros, compressed or shared data); fully
 * covered clusters are written straight from the caller's buffer, never
 * read.  The L2 entries change only after the data is written, and the
 * old clusters' references are dropped through the deferred free list.
 */
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "qcow2-int.h"

#define FAST_SEGS 64
#define MAX_RUN 1024            /* clusters allocated in one go */
#define FREES_FLUSH 4096        /* deferred frees that trigger a flush */

struct wseg {
	uint64_t host, len;
	const uint8_t *src;
};

static bool owned(uint64_t e, enum qcow2_ctype t)
{
	return t == QCOW2_C_NORMAL && (e & QCOW2_OFLAG_COPIED);
}

/* An entry with COPIED claims refcount 1.  Writing in place on a weaker
 * claim (refcount 0: free, so another guest cluster may get it) would
 * make two guest clusters share data. */
static int verify_owned(struct qcow2_image *img, uint64_t host)
{
	uint64_t rc;

	if (qcow2_refcount_get(img, host >> img->cbits, &rc) < 0)
		return -1;
	if (rc != 1)
		return qcow2_err_corrupt(img, "%s: cluster at 0x%llx marked copied has refcount %llu",
					 img->path, (unsigned long long)host,
					 (unsigned long long)rc);
	return 0;
}

/* Collect in-place segments; 0 when some cluster is not writable in place. */
static int plan_fast(struct qcow2_image *img, const uint8_t *buf, uint64_t len, uint64_t off,
		     struct wseg *s, int *ns)
{
	uint64_t end = off + len, e, bm, host;

	*ns = 0;
	while (off < end) {
		uint64_t vc = off >> img->cbits, n = MIN(end, (vc + 1) << img->cbits) - off;

		if (qcow2_l2_lookup(img, vc, &e, &bm) < 0)
			return -1;
		if (!owned(e, qcow2_l2_classify(img, e, bm, 0, &host)))
			return 0;
		if (verify_owned(img, host) < 0)
			return -1;
		host += off & (img->cs - 1);
		if (*ns && s[*ns - 1].host + s[*ns - 1].len == host)
			s[*ns - 1].len += n;
		else if (*ns == FAST_SEGS)
			return 0;
		else
			s[(*ns)++] = (struct wseg){ host, n, buf };
		buf += n;
		off += n;
	}
	return 1;
}

static int try_fast(struct qcow2_image *img, const uint8_t *buf, uint64_t len, uint64_t off)
{
	struct wseg s[FAST_SEGS];
	int ns, r;

	if (img->extl2 || img->need_rebuild)
		return 0; /* a dirty image is repaired by its first write */
	qcow2_lock_shared(img);
	r = plan_fast(img, buf, len, off, s, &ns);
	for (int i = 0; r > 0 && i < ns; i++)
		if (qcow2_guard_data(img, s[i].host, s[i].len) < 0)
			r = -1;
	pthread_mutex_unlock(&img->lock);
	for (int i = 0; r > 0 && i < ns; i++)
		if (qcow2_img_write(img, s[i].src, s[i].len, s[i].host) < 0)
			r = -1;
	pthread_rwlock_unlock(&img->io);
	return r;
}

/* --- slow path (exclusive) --- */

struct span {
	uint8_t *t;                 /* writable L2 table */
	uint64_t l2_off;
	uint64_t vc0;               /* guest cluster of entry 0 of t */
	const uint8_t *buf;         /* request */
	uint64_t off, len;
};

/* [cg, cg+cs) fully written by the request (up to the virtual end). */
static bool covers(const struct qcow2_image *img, const struct span *sp, uint64_t vc)
{
	uint64_t cg = vc << img->cbits, ce = MIN(cg + img->cs, img->h.size);

	return cg >= sp->off && ce <= sp->off + sp->len;
}

/* Old guest content of cluster vc overlaid with the request's part. */
static int merge_cluster(struct qcow2_image *img, const struct span *sp, uint64_t vc,
			 uint64_t entry, uint8_t *out)
{
	uint64_t cg = vc << img->cbits, lo = MAX(cg, sp->off);
	uint64_t hi = MIN(cg + img->cs, sp->off + sp->len);

	if (covers(img, sp, vc))
		memset(out, 0, img->cs);
	else if (qcow2_read_cluster(img, entry, vc, out) < 0)
		return -1;
	memcpy(out + (lo - cg), sp->buf + (lo - sp->off), hi - lo);
	return 0;
}

static const uint8_t *direct(const struct qcow2_image *img, const struct span *sp, uint64_t vc)
{
	uint64_t cg = vc << img->cbits;

	if (cg + img->cs > sp->off + sp->len)
		return NULL; /* the buffer ends inside this cluster */
	return covers(img, sp, vc) ? sp->buf + (cg - sp->off) : NULL;
}

/* Write clusters [vc, vc+n) of the run to host (contiguous). */
static int write_run_data(struct qcow2_image *img, const struct span *sp, uint64_t vc,
			  uint64_t n, uint64_t host)
{
	CLEANUP_FREE uint8_t *tmp = NULL;
	uint64_t k = 0;

	while (k < n) {
		const uint8_t *d = direct(img, sp, vc + k);
		uint64_t m = 1;

		if (d) {
			while (k + m < n && direct(img, sp, vc + k + m))
				m++;
		} else {
			uint64_t i = vc + k - sp->vc0;

			if (!tmp && !(tmp = dio_alloc(img->cs)))
				return err_set(ENOMEM, "out of memory");
			if (merge_cluster(img, sp, vc + k, qcow2_l2_get(img, sp->t, i), tmp) < 0)
				return -1;
			d = tmp;
		}
		if (qcow2_img_write(img, d, m << img->cbits, host + (k << img->cbits)) < 0)
			return -1;
		k += m;
	}
	return 0;
}

static int relink(struct qcow2_image *img, const struct span *sp, uint64_t i, uint64_t neu)
{
	uint64_t old = qcow2_l2_get(img, sp->t, i), host;
	enum qcow2_ctype ty = qcow2_l2_classify(img, old, 0, 0, &host);

	qcow2_l2_put(img, sp->t, sp->l2_off, i, neu);
	if ((ty == QCOW2_C_NORMAL || ty == QCOW2_C_ZERO_ALLOC) &&
	    (neu & QCOW2_L2E_OFFSET_MASK) == host)
		return 0; /* same host cluster, only the flags change */
	if (ty == QCOW2_C_NORMAL || ty == QCOW2_C_ZERO_ALLOC || ty == QCOW2_C_COMPRESSED)
		return qcow2_free_l2_entry(img, old);
	return 0;
}

static int new_run(struct qcow2_image *img, const struct span *sp, uint64_t i, uint64_t n)
{
	uint64_t host;

	if (qcow2_alloc_clusters(img, n, &host) < 0)
		return -1;
	if (write_run_data(img, sp, sp->vc0 + i, n, host) < 0) {
		qcow2_free_deferred(img, host >> img->cbits, n);
		return -1;
	}
	for (uint64_t k = 0; k < n; k++)
		if (relink(img, sp, i + k, (host + (k << img->cbits)) | QCOW2_OFLAG_COPIED) < 0)
			return -1;
	return 0;
}

/* What cluster i of the span needs: 0 in place, 1 in place after zero
 * fill (preallocated zero cluster), 2 a new cluster. */
static int need(struct qcow2_image *img, const struct span *sp, uint64_t i, uint64_t *host)
{
	uint64_t e = qcow2_l2_get(img, sp->t, i);
	enum qcow2_ctype t = qcow2_l2_classify(img, e, 0, 0, host);

	if (t == QCOW2_C_INVALID)
		return qcow2_err_corrupt(img, "%s: invalid L2 entry 0x%llx", img->path, (unsigned long long)e);
	if (owned(e, t))
		return 0;
	if (t == QCOW2_C_ZERO_ALLOC && (e & QCOW2_OFLAG_COPIED))
		return 1;
	return 2;
}

static int in_place(struct qcow2_image *img, const struct span *sp, uint64_t i,
		    uint64_t host, bool zero_fill)
{
	uint64_t vc = sp->vc0 + i, cg = vc << img->cbits, lo = MAX(cg, sp->off);
	uint64_t hi = MIN(cg + img->cs, sp->off + sp->len);
	CLEANUP_FREE uint8_t *tmp = NULL;

	if (qcow2_guard_data(img, host, img->cs) < 0)
		return -1;
	if (!zero_fill)
		return qcow2_img_write(img, sp->buf + (lo - sp->off), hi - lo, host + (lo - cg));
	tmp = dio_alloc(img->cs);
	if (!tmp)
		return err_set(ENOMEM, "out of memory");
	if (merge_cluster(img, sp, vc, QCOW2_OFLAG_ZERO, tmp) < 0 ||
	    qcow2_img_write(img, tmp, img->cs, host) < 0)
		return -1;
	return relink(img, sp, i, host | QCOW2_OFLAG_COPIED);
}

/* Before anything is allocated: the span's in-place clusters must be
 * truly owned, or an allocation could hand one of them out. */
static int verify_span(struct qcow2_image *img, const struct span *sp, uint64_t i, uint64_t end)
{
	for (; i < end; i++) {
		uint64_t e = qcow2_l2_get(img, sp->t, i), host;

		if (owned(e, qcow2_l2_classify(img, e, 0, 0, &host)) && verify_owned(img, host) < 0)
			return -1;
	}
	return 0;
}

static int write_span(struct qcow2_image *img, struct span *sp, uint64_t i, uint64_t end)
{
	if (verify_span(img, sp, i, end) < 0)
		return -1;
	while (i < end) {
		uint64_t host, n = 1, h2;
		int k = need(img, sp, i, &host);

		if (k < 0)
			return -1;
		if (k < 2) {
			if (in_place(img, sp, i, host, k == 1) < 0)
				return -1;
			i++;
			continue;
		}
		while (i + n < end && n < MAX_RUN && need(img, sp, i + n, &h2) == 2)
			n++;
		if (new_run(img, sp, i, n) < 0)
			return -1;
		i += n;
	}
	return 0;
}

int qcow2_write_locked(struct qcow2_image *img, const uint8_t *buf, uint64_t len, uint64_t off)
{
	while (len) {
		uint64_t vc = off >> img->cbits, l1i = vc >> img->l2_bits;
		uint64_t tend = (l1i + 1) << (img->l2_bits + img->cbits);
		uint64_t n = MIN(len, tend - off), last = (off + n - 1) >> img->cbits;
		struct span sp = { .vc0 = l1i << img->l2_bits, .buf = buf, .off = off, .len = n };

		if (qcow2_l2_writable(img, l1i, &sp.t) < 0)
			return -1;
		sp.l2_off = img->l1[l1i] & QCOW2_L1E_OFFSET_MASK;
		if (write_span(img, &sp, vc - sp.vc0, last + 1 - sp.vc0) < 0)
			return -1;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* An image found corrupt while open takes no more writes. */
static int refuse_broken(const struct qcow2_image *img)
{
	return err_set(EROFS, "%s: image marked corrupt while writing", img->path);
}

/* Exclusive section entry for anything that may allocate or free. */
int qcow2_begin_change(struct qcow2_image *img)
{
	qcow2_lock_excl(img);
	if (img->broken) {
		qcow2_unlock(img);
		return refuse_broken(img);
	}
	if (img->need_rebuild && qcow2_refcount_rebuild(img) < 0) {
		qcow2_unlock(img);
		return -1;
	}
	return 0;
}

int qcow2_end_change(struct qcow2_image *img, int r)
{
	if (r == 0 && img->nfrees > FREES_FLUSH)
		r = qcow2_flush_locked(img);
	qcow2_unlock(img);
	return r;
}

int qcow2_check_write(const struct qcow2_image *img, uint64_t off, uint64_t len)
{
	if (!img->rw)
		return err_set(EROFS, "%s: image opened read-only", img->path);
	if (img->broken)
		return refuse_broken(img);
	return qcow2_check_range(img, off, len);
}

int qcow2_pwrite(struct qcow2_image *img, const void *buf, uint64_t len, uint64_t off)
{
	int r;

	if (qcow2_check_write(img, off, len) < 0)
		return -1;
	if (!len)
		return 0;
	r = try_fast(img, buf, len, off);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (qcow2_begin_change(img) < 0)
		return -1;
	return qcow2_end_change(img, qcow2_write_locked(img, buf, len, off));
}

int qcow2_flush(struct qcow2_image *img)
{
	int r;

	if (!img->rw)
		return 0;
	qcow2_lock_excl(img);
	r = qcow2_flush_locked(img);
	qcow2_unlock(img);
	return r;
}

int qcow2_sync_data(struct qcow2_image *img)
{
	if (!img->rw || img->raw)
		return 0;
	return qcow2_io_sync(img->fd); /* fd is constant while the handle lives */
}
