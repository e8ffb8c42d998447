/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* read.c: guest reads through the chain, compressed clusters.
 *
 * A read is planned under the mutex (L2 lookups, merging units into
 * segments: runs of contiguous host data become one pread) and executed
 * without it, under the shared io lock, so reads run in parallel and
 * never see a cluster freed or reused under them.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "qcow2-int.h"

struct seg {
	enum qcow2_map_kind kind;
	uint64_t goff, len, host;   /* host: data offset, or the compressed entry */
};

#define MAX_SEGS 64

struct plan {
	struct seg s[MAX_SEGS];
	int n;
	uint64_t done;
};

static bool add_seg(struct plan *p, enum qcow2_map_kind k, uint64_t goff, uint64_t len, uint64_t host)
{
	struct seg *last = p->n ? &p->s[p->n - 1] : NULL;

	if (last && last->kind == k && k != QCOW2_MAP_COMPRESSED &&
	    (k != QCOW2_MAP_DATA || last->host + last->len == host)) {
		last->len += len;
		p->done += len;
		return true;
	}
	if (p->n == MAX_SEGS)
		return false;
	p->s[p->n++] = (struct seg){ k, goff, len, host };
	p->done += len;
	return true;
}

/* Plan the units of one cluster that fall in [off, end). */
static int plan_cluster(struct qcow2_image *img, struct plan *p, uint64_t off, uint64_t end)
{
	uint64_t vc = off >> img->cbits, e, bm, ubits = img->cbits - (img->extl2 ? 5 : 0);
	uint64_t cend = MIN(end, (vc + 1) << img->cbits);

	if (qcow2_l2_lookup(img, vc, &e, &bm) < 0)
		return -1;
	while (off < cend) {
		unsigned sc = (unsigned)((off >> ubits) & (qcow2_units(img) - 1));
		uint64_t uend = MIN(cend, ((off >> ubits) + 1) << ubits), host;
		enum qcow2_map_kind k = QCOW2_MAP_ZERO;

		if (qcow2_l2_unit_kind(img, e, bm, sc, &k, &host) < 0)
			return -1;
		if (k == QCOW2_MAP_DATA)
			host += off & ((1ull << ubits) - 1);
		if (!add_seg(p, k, off, uend - off, host))
			return 0;
		off = uend;
	}
	return 0;
}

static int make_plan(struct qcow2_image *img, struct plan *p, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	p->n = 0;
	p->done = 0;
	while (off < end && p->n < MAX_SEGS) {
		uint64_t before = p->done;

		if (plan_cluster(img, p, off, end) < 0)
			return -1;
		if (p->done == before)
			break;
		off += p->done - before;
	}
	return 0;
}

int qcow2_decompress(struct qcow2_image *img, uint64_t entry, uint8_t *out)
{
	uint64_t coff = entry & img->coff_mask;
	uint64_t nb = ((entry >> img->csize_shift) & img->csize_mask) + 1;
	uint64_t clen = nb * 512 - (coff & 511);
	CLEANUP_FREE uint8_t *in = dio_alloc(clen);
	z_stream z;
	int r;

	if (!in)
		return err_set(ENOMEM, "out of memory");
	if (coff < img->cs)
		return err_corrupt("%s: compressed cluster at 0x%llx", img->path,
				   (unsigned long long)coff);
	if (qcow2_img_read(img, in, clen, coff) < 0)
		return -1;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, -12) != Z_OK)
		return err_set(ENOMEM, "zlib init failed");
	z.next_in = in;
	z.avail_in = (uInt)clen;
	z.next_out = out;
	z.avail_out = img->cs;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if ((r != Z_STREAM_END && r != Z_BUF_ERROR) || z.avail_out)
		return err_corrupt("%s: bad compressed cluster at 0x%llx", img->path,
				   (unsigned long long)coff);
	return 0;
}

static int read_compressed(struct qcow2_image *img, const struct seg *s, uint8_t *dst)
{
	CLEANUP_FREE uint8_t *c = dio_alloc(img->cs);

	if (!c)
		return err_set(ENOMEM, "out of memory");
	if (qcow2_decompress(img, s->host, c) < 0)
		return -1;
	memcpy(dst, c + (s->goff & (img->cs - 1)), s->len);
	return 0;
}

static int run_seg(struct qcow2_image *img, const struct seg *s, uint8_t *dst)
{
	switch (s->kind) {
	case QCOW2_MAP_DATA:
		return qcow2_img_read(img, dst, s->len, s->host);
	case QCOW2_MAP_ZERO:
		memset(dst, 0, s->len);
		return 0;
	case QCOW2_MAP_UNALLOCATED:
		if (!img->backing) {
			memset(dst, 0, s->len);
			return 0;
		}
		return qcow2_read_below(img->backing, dst, s->len, s->goff);
	default:
		return read_compressed(img, s, dst);
	}
}

static int read_qcow2(struct qcow2_image *img, uint8_t *buf, uint64_t len, uint64_t off)
{
	struct plan *p = malloc(sizeof *p);
	int r = 0;

	if (!p)
		return err_set(ENOMEM, "out of memory");
	pthread_rwlock_rdlock(&img->io);
	while (len && r == 0) {
		pthread_mutex_lock(&img->lock);
		r = make_plan(img, p, off, len);
		pthread_mutex_unlock(&img->lock);
		for (int i = 0; i < p->n && r == 0; i++)
			r = run_seg(img, &p->s[i], buf + (p->s[i].goff - off));
		if (r == 0 && p->done == 0)
			r = err_set(EIO, "%s: read made no progress", img->path);
		buf += p->done;
		off += p->done;
		len -= p->done;
	}
	pthread_rwlock_unlock(&img->io);
	free(p);
	return r;
}

int qcow2_read_below(struct qcow2_image *img, void *buf, uint64_t len, uint64_t off)
{
	uint64_t vs = qcow2_vsize(img), n = off < vs ? MIN(len, vs - off) : 0;

	memset((uint8_t *)buf + n, 0, len - n);
	if (!n)
		return 0;
	if (img->raw)
		return qcow2_img_read(img, buf, n, off);
	return read_qcow2(img, buf, n, off);
}

int qcow2_pread(struct qcow2_image *img, void *buf, uint64_t len, uint64_t off)
{
	if (qcow2_check_range(img, off, len) < 0)
		return -1;
	return qcow2_read_below(img, buf, len, off);
}

int qcow2_read_cluster(struct qcow2_image *img, uint64_t entry, uint64_t vc, uint8_t *buf)
{
	uint64_t host;

	switch (qcow2_l2_classify(img, entry, 0, 0, &host)) {
	case QCOW2_C_UNALLOCATED:
		if (!img->backing) {
			memset(buf, 0, img->cs);
			return 0;
		}
		return qcow2_read_below(img->backing, buf, img->cs, vc << img->cbits);
	case QCOW2_C_ZERO_PLAIN:
	case QCOW2_C_ZERO_ALLOC:
		memset(buf, 0, img->cs);
		return 0;
	case QCOW2_C_NORMAL:
		return qcow2_img_read(img, buf, img->cs, host);
	case QCOW2_C_COMPRESSED:
		return qcow2_decompress(img, entry, buf);
	default:
		return err_corrupt("%s: invalid L2 entry 0x%llx", img->path,
				   (unsigned long long)entry);
	}
}
