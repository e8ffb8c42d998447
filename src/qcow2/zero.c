/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zero.c: write-zeroes and discard.
 *
 * Whole clusters change only their L2 entry: v3 images get the zero flag
 * (keeping the host cluster when the caller did not allow unmapping and
 * the cluster is this image's own), clusters with nothing below them are
 * simply deallocated, and v2 images, which have no zero flag, get zeros
 * written where a backing file would otherwise show through.  Partial
 * clusters are written with zeros unless they already read as zeros.
 * Discard never allocates: on a v2 image with a backing file it leaves
 * clusters alone (their content stays defined); partial clusters are
 * left as they are.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "qcow2-int.h"

enum zmode { Z_KEEP, Z_UNMAP, Z_DISCARD };

/* What entry a whole cluster gets; *write_zeros when it must be written
 * instead, *skip when nothing changes. */
struct zplan {
	uint64_t neu;
	bool skip, write_zeros;
};

bool qcow2_backing_absent(const struct qcow2_image *img, uint64_t off, uint64_t len)
{
	(void)len; /* the range starts at off: past the end means all of it */
	if (!img->backing) /* named but not opened (NO_BACKING): it may hold anything */
		return !img->h.backing_file[0];
	return off >= qcow2_vsize(img->backing);
}

static void plan_zero(const struct qcow2_image *img, uint64_t e, uint64_t vc, enum zmode m,
		      struct zplan *p)
{
	uint64_t host;
	enum qcow2_ctype t = qcow2_l2_classify(img, e, 0, 0, &host);
	bool absent = qcow2_backing_absent(img, vc << img->cbits, img->cs);
	bool own = (t == QCOW2_C_NORMAL || t == QCOW2_C_ZERO_ALLOC) && (e & QCOW2_OFLAG_COPIED);

	*p = (struct zplan){ 0 };
	if ((t == QCOW2_C_UNALLOCATED && absent) || t == QCOW2_C_ZERO_PLAIN ||
	    (t == QCOW2_C_ZERO_ALLOC && m == Z_KEEP)) {
		p->skip = true;
		return;
	}
	if (absent && m != Z_KEEP)
		return; /* deallocate: nothing below, reads zeros */
	if (img->h.version >= 3) {
		p->neu = QCOW2_OFLAG_ZERO;
		if (m == Z_KEEP && own)
			p->neu |= host | QCOW2_OFLAG_COPIED;
		return;
	}
	if (m == Z_DISCARD)
		p->skip = true;
	else
		p->write_zeros = true;
}

static int write_zeros(struct qcow2_image *img, uint64_t off, uint64_t len)
{
	CLEANUP_FREE uint8_t *z = dio_alloc(MIN(len, 1u << 20));

	if (!z)
		return err_set(ENOMEM, "out of memory");
	memset(z, 0, MIN(len, 1u << 20));
	while (len) {
		uint64_t n = MIN(len, 1u << 20);

		if (qcow2_write_locked(img, z, n, off) < 0)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static int set_entry(struct qcow2_image *img, uint64_t vc, uint64_t old, uint64_t neu)
{
	uint64_t l1i = vc >> img->l2_bits, i = vc & (img->l2_entries - 1), host;
	enum qcow2_ctype t = qcow2_l2_classify(img, old, 0, 0, &host);
	uint8_t *tbl;

	if (qcow2_l2_writable(img, l1i, &tbl) < 0)
		return -1;
	qcow2_l2_put(img, tbl, img->l1[l1i] & QCOW2_L1E_OFFSET_MASK, i, neu);
	if (t != QCOW2_C_NORMAL && t != QCOW2_C_ZERO_ALLOC && t != QCOW2_C_COMPRESSED)
		return 0;
	if ((neu & QCOW2_L2E_OFFSET_MASK) == host && t != QCOW2_C_COMPRESSED)
		return 0;
	return qcow2_free_l2_entry(img, old);
}

/* end: the virtual end the last cluster is cut at (the size, or the new
 * size of an image being grown). */
static int zero_cluster(struct qcow2_image *img, uint64_t vc, uint64_t end, enum zmode m)
{
	uint64_t e, bm, host;
	struct zplan p;

	if (qcow2_l2_lookup(img, vc, &e, &bm) < 0)
		return -1;
	if (qcow2_l2_classify(img, e, 0, 0, &host) == QCOW2_C_INVALID)
		return qcow2_err_corrupt(img, "%s: invalid L2 entry 0x%llx", img->path, (unsigned long long)e);
	plan_zero(img, e, vc, m, &p);
	if (p.skip)
		return 0;
	if (p.write_zeros)
		return write_zeros(img, vc << img->cbits, MIN(img->cs, end - (vc << img->cbits)));
	return set_entry(img, vc, e, p.neu);
}

/* A partial cluster: already zero, or written with zeros. */
static int zero_part(struct qcow2_image *img, uint64_t off, uint64_t len)
{
	uint64_t e, bm, host, vc = off >> img->cbits;
	enum qcow2_ctype t;

	if (qcow2_l2_lookup(img, vc, &e, &bm) < 0)
		return -1;
	t = qcow2_l2_classify(img, e, 0, 0, &host);
	if (t == QCOW2_C_ZERO_PLAIN || t == QCOW2_C_ZERO_ALLOC ||
	    (t == QCOW2_C_UNALLOCATED && qcow2_backing_absent(img, vc << img->cbits, img->cs)))
		return 0;
	return write_zeros(img, off, len);
}

static int zero_range(struct qcow2_image *img, uint64_t off, uint64_t len, uint64_t vend,
		      enum zmode m)
{
	uint64_t end = off + len;

	while (off < end) {
		uint64_t vc = off >> img->cbits, cg = vc << img->cbits;
		uint64_t cend = MIN(cg + img->cs, vend), n = MIN(end, cend) - off;
		int r;

		if (off == cg && off + n == cend)
			r = zero_cluster(img, vc, vend, m);
		else
			r = m == Z_DISCARD ? 0 : zero_part(img, off, n);
		if (r < 0)
			return -1;
		if (img->nfrees > 4096 && qcow2_flush_locked(img) < 0)
			return -1;
		off += n;
	}
	return 0;
}

int qcow2_zero_locked(struct qcow2_image *img, uint64_t off, uint64_t len)
{
	return zero_range(img, off, len, img->h.size, Z_UNMAP);
}

static int zero_common(struct qcow2_image *img, uint64_t off, uint64_t len, enum zmode m)
{
	if (qcow2_check_write(img, off, len) < 0)
		return -1;
	if (!len)
		return 0;
	if (img->extl2)
		return err_set(ENOTSUP, "%s: extended L2 images are read-only", img->path);
	if (qcow2_begin_change(img) < 0)
		return -1;
	return qcow2_end_change(img, zero_range(img, off, len, img->h.size, m));
}

int qcow2_zero_grown_locked(struct qcow2_image *img, uint64_t off, uint64_t len, uint64_t vend)
{
	assert(off + len <= vend && vend > img->h.size);
	if (img->extl2)
		return err_set(ENOTSUP, "%s: extended L2 images are read-only", img->path);
	return zero_range(img, off, len, vend, Z_UNMAP);
}

int qcow2_pzero(struct qcow2_image *img, uint64_t off, uint64_t len, int flags)
{
	return zero_common(img, off, len, flags & QCOW2_ZERO_MAY_UNMAP ? Z_UNMAP : Z_KEEP);
}

int qcow2_discard(struct qcow2_image *img, uint64_t off, uint64_t len)
{
	return zero_common(img, off, len, Z_DISCARD);
}
