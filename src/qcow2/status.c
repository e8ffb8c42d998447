/* status.c: allocation maps of this image (qcow2_map) and of the guest
 * view through the chain (qcow2_block_status).
 *
 * Both walk L2 tables only (an unallocated L1 entry skips its whole
 * table) and never read guest data.
 */
#include <string.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

static int unit_kind(struct qcow2_image *img, uint64_t e, uint64_t bm, unsigned sc,
		     enum qcow2_map_kind *k, uint64_t *host)
{
	switch (qcow2_l2_classify(img, e, bm, sc, host)) {
	case QCOW2_C_UNALLOCATED:
		*k = QCOW2_MAP_UNALLOCATED;
		return 0;
	case QCOW2_C_ZERO_PLAIN:
	case QCOW2_C_ZERO_ALLOC:
		*k = QCOW2_MAP_ZERO;
		return 0;
	case QCOW2_C_NORMAL:
		*k = QCOW2_MAP_DATA;
		return 0;
	case QCOW2_C_COMPRESSED:
		*k = QCOW2_MAP_COMPRESSED;
		*host = 0;
		return 0;
	default:
		return err_corrupt("%s: invalid L2 entry 0x%llx", img->path, (unsigned long long)e);
	}
}

/* Kind of the unit at off, its host offset and the bytes to its end. */
static int unit_at(struct qcow2_image *img, uint64_t off, enum qcow2_map_kind *k,
		   uint64_t *host, uint64_t *n)
{
	uint64_t gc = off >> img->cbits, ubits = img->cbits - (img->extl2 ? 5 : 0), e, bm;
	uint8_t *t;

	if (qcow2_l2_table(img, gc >> img->l2_bits, &t) < 0)
		return -1;
	if (!t) {
		uint64_t tbits = img->l2_bits + img->cbits;

		*k = QCOW2_MAP_UNALLOCATED;
		*n = (((off >> tbits) + 1) << tbits) - off;
		return 0;
	}
	e = qcow2_l2_get(img, t, gc & (img->l2_entries - 1));
	bm = qcow2_l2_bitmap(img, t, gc & (img->l2_entries - 1));
	if (unit_kind(img, e, bm, (unsigned)((off >> ubits) & (qcow2_units(img) - 1)), k, host) < 0)
		return -1;
	*n = (((off >> ubits) + 1) << ubits) - off;
	if (*k == QCOW2_MAP_DATA)
		*host += off & ((1ull << ubits) - 1);
	return 0;
}

/* The first run of one kind in [off, off+len) of this image alone. */
static int map_run(struct qcow2_image *img, uint64_t off, uint64_t len,
		   struct qcow2_map_entry *m)
{
	uint64_t end = off + len, n, host = 0;
	enum qcow2_map_kind k;

	if (img->raw) {
		*m = (struct qcow2_map_entry){ off, len, QCOW2_MAP_DATA, off };
		return 0;
	}
	if (unit_at(img, off, &m->kind, &m->host_off, &n) < 0)
		return -1;
	m->off = off;
	m->len = MIN(n, len);
	while (off + m->len < end) {
		uint64_t at = off + m->len;

		if (unit_at(img, at, &k, &host, &n) < 0)
			return -1;
		if (k != m->kind || (k == QCOW2_MAP_DATA && host != m->host_off + m->len))
			break;
		m->len += MIN(n, end - at);
	}
	return 0;
}

int qcow2_map(struct qcow2_image *img, uint64_t off, uint64_t len,
	      struct qcow2_map_entry *ent, int max)
{
	int n = 0, r = 0;

	if (qcow2_check_range(img, off, len) < 0)
		return -1;
	pthread_mutex_lock(&img->lock);
	while (len && n < max && r == 0) {
		r = map_run(img, off, len, &ent[n]);
		off += ent[n].len;
		len -= ent[n].len;
		n++;
	}
	pthread_mutex_unlock(&img->lock);
	return r < 0 ? -1 : n;
}

/* Flags and length of the first extent of the guest view of img. */
static int status_run(struct qcow2_image *img, uint64_t off, uint64_t len, unsigned *flags,
		      uint64_t *n)
{
	struct qcow2_map_entry m;
	struct qcow2_image *b = img->backing;
	int r;

	pthread_mutex_lock(&img->lock);
	r = map_run(img, off, len, &m);
	pthread_mutex_unlock(&img->lock);
	if (r < 0)
		return -1;
	*n = m.len;
	*flags = 0;
	if (m.kind == QCOW2_MAP_ZERO)
		*flags = QCOW2_EXT_HOLE | QCOW2_EXT_ZERO;
	if (m.kind != QCOW2_MAP_UNALLOCATED)
		return 0;
	if (!b || off >= qcow2_vsize(b)) {
		*flags = QCOW2_EXT_HOLE | QCOW2_EXT_ZERO;
		return 0;
	}
	return status_run(b, off, MIN(m.len, qcow2_vsize(b) - off), flags, n);
}

int qcow2_block_status(struct qcow2_image *img, uint64_t off, uint64_t len,
		       struct qcow2_extent *ext, int max)
{
	int n = 0;

	if (qcow2_check_range(img, off, len) < 0)
		return -1;
	while (len) {
		unsigned f;
		uint64_t l;

		if (status_run(img, off, len, &f, &l) < 0)
			return -1;
		if (n && ext[n - 1].flags == f)
			ext[n - 1].len += l;
		else if (n == max)
			break;
		else
			ext[n++] = (struct qcow2_extent){ off, l, f };
		off += l;
		len -= l;
	}
	return n;
}

/* --- guest view with provenance (img map) --- */

static void chain_from_map(const struct qcow2_image *img, const struct qcow2_map_entry *m,
			   int depth, struct qcow2_chain_extent *x)
{
	*x = (struct qcow2_chain_extent){ .off = m->off, .len = m->len, .depth = depth,
					  .present = true };
	x->zero = m->kind == QCOW2_MAP_ZERO;
	x->data = m->kind == QCOW2_MAP_DATA || m->kind == QCOW2_MAP_COMPRESSED;
	x->has_off = m->kind == QCOW2_MAP_DATA;
	x->host_off = m->host_off;
	(void)img;
}

static int chain_run(struct qcow2_image *img, uint64_t off, uint64_t len, int depth,
		     struct qcow2_chain_extent *x)
{
	struct qcow2_map_entry m;
	struct qcow2_image *b = img->backing;
	int r;

	pthread_mutex_lock(&img->lock);
	r = map_run(img, off, len, &m);
	pthread_mutex_unlock(&img->lock);
	if (r < 0)
		return -1;
	chain_from_map(img, &m, depth, x);
	if (m.kind != QCOW2_MAP_UNALLOCATED)
		return 0;
	if (b && off < qcow2_vsize(b))
		return chain_run(b, off, MIN(m.len, qcow2_vsize(b) - off), depth + 1, x);
	*x = (struct qcow2_chain_extent){ .off = off, .len = m.len, .depth = depth,
					  .zero = true };
	return 0;
}

static bool chain_merge(struct qcow2_chain_extent *a, const struct qcow2_chain_extent *b)
{
	if (a->depth != b->depth || a->present != b->present || a->zero != b->zero ||
	    a->data != b->data || a->has_off != b->has_off ||
	    (a->has_off && a->host_off + a->len != b->host_off))
		return false;
	a->len += b->len;
	return true;
}

int qcow2_map_chain(struct qcow2_image *img, uint64_t off, uint64_t len,
		    struct qcow2_chain_extent *ext, int max)
{
	int n = 0;

	if (qcow2_check_range(img, off, len) < 0)
		return -1;
	while (len) {
		struct qcow2_chain_extent x;

		if (chain_run(img, off, len, 0, &x) < 0)
			return -1;
		if (!(n && chain_merge(&ext[n - 1], &x))) {
			if (n == max)
				break;
			ext[n++] = x;
		}
		off += x.len;
		len -= x.len;
	}
	return n;
}
