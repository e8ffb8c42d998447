/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status.c: allocation maps of this image (qcow2_map) and of the guest
 * view through the chain (qcow2_block_status).
 *
 * Both walk L2 tables only (an unallocated L1 entry skips its whole
 * table) and never read guest data.
 */
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

/* The map reports no host offset for compressed clusters. */
static int unit_kind(struct qcow2_image *img, uint64_t e, uint64_t bm, unsigned sc,
		     enum qcow2_map_kind *k, uint64_t *host)
{
	if (qcow2_l2_unit_kind(img, e, bm, sc, k, host) < 0)
		return -1;
	if (*k == QCOW2_MAP_COMPRESSED)
		*host = 0;
	return 0;
}

/* Add a unit of n bytes to run m (empty: m->len == 0); false when it
 * cannot join: another kind, or data not contiguous on the host. */
static bool run_add(struct qcow2_map_entry *m, enum qcow2_map_kind k, uint64_t host,
		    uint64_t n)
{
	if (!m->len) {
		m->kind = k;
		m->host_off = host;
	} else if (k != m->kind || (k == QCOW2_MAP_DATA && host != m->host_off + m->len)) {
		return false;
	}
	m->len += n;
	return true;
}

/* Eight standard L2 entries at p all zero: one wide test per cache
 * line instead of eight, for the mostly empty tables of a sparse disk. */
static bool eight_empty(const uint8_t *p)
{
	uint64_t w[8], or = 0;

	memcpy(w, p, sizeof w);
	for (int j = 0; j < 8; j++)
		or |= w[j];
	return !or;
}

/* Bytes from at (in entry i, which is empty) to the end of the run of
 * empty entries that follows, within [at, tend) of table t: a sparse
 * table is crossed in one tight loop. */
static uint64_t empty_run(const struct qcow2_image *img, const uint8_t *t, uint64_t i,
			  uint64_t at, uint64_t tend)
{
	uint64_t last = ((tend - 1) >> img->cbits) & (img->l2_entries - 1), j = i + 1;

	while (j <= last) {
		if (!img->extl2 && j + 8 <= last + 1 && eight_empty(t + j * 8))
			j += 8;
		else if (qcow2_l2_empty(img, t, j))
			j++;
		else
			break;
	}
	return MIN(((at >> img->cbits) + (j - i)) << img->cbits, tend) - at;
}

/* Extend m over L2 table t (NULL: unallocated) from guest offset at,
 * stopping at end or at the end of the table.  The table is looked up
 * once by the caller and its entries classified here inline; runs of
 * empty entries cost a load and a compare each.  Returns 1 when a unit did not
 * join (the run is complete), 0 when the range or table was exhausted. */
static int table_run(struct qcow2_image *img, const uint8_t *t, uint64_t at, uint64_t end,
		     struct qcow2_map_entry *m)
{
	uint64_t tbits = img->l2_bits + img->cbits;
	uint64_t ubits = img->cbits - (img->extl2 ? 5 : 0);
	uint64_t tend = MIN(end, ((at >> tbits) + 1) << tbits);

	if (!t)
		return run_add(m, QCOW2_MAP_UNALLOCATED, 0, tend - at) ? 0 : 1;
	while (at < tend) {
		uint64_t i = (at >> img->cbits) & (img->l2_entries - 1), host = 0, n;
		enum qcow2_map_kind k = QCOW2_MAP_UNALLOCATED;

		if (qcow2_l2_empty(img, t, i)) {
			n = empty_run(img, t, i, at, tend);
		} else {
			uint64_t e = qcow2_l2_get(img, t, i);
			unsigned sc = (unsigned)((at >> ubits) & (qcow2_units(img) - 1));

			if (unit_kind(img, e, qcow2_l2_bitmap(img, t, i), sc, &k, &host) < 0)
				return -1;
			n = MIN(((at >> ubits) + 1) << ubits, tend) - at;
			if (k == QCOW2_MAP_DATA)
				host += at & ((1ull << ubits) - 1);
		}
		if (!run_add(m, k, host, n))
			return 1;
		at += n;
	}
	return 0;
}

/* The L2 table of l1i: through the cache, or for a whole-image scan
 * (scan) straight from the mapped file. */
static int run_table(struct qcow2_image *img, uint64_t l1i, bool scan, const uint8_t **t)
{
	uint8_t *c;

	if (scan)
		return qcow2_l2_table_scan(img, l1i, t);
	if (qcow2_l2_table(img, l1i, &c) < 0)
		return -1;
	*t = c;
	return 0;
}

/* The first run of one kind in [off, off+len) of this image alone. */
static int map_run(struct qcow2_image *img, uint64_t off, uint64_t len, bool scan,
		   struct qcow2_map_entry *m)
{
	uint64_t end = off + len, tbits = img->l2_bits + img->cbits;
	int r = 0;

	if (img->raw) {
		*m = (struct qcow2_map_entry){ off, len, QCOW2_MAP_DATA, off };
		return 0;
	}
	*m = (struct qcow2_map_entry){ .off = off };
	while (r == 0 && off + m->len < end) {
		uint64_t at = off + m->len;
		const uint8_t *t;

		if (run_table(img, at >> tbits, scan, &t) < 0)
			return -1;
		r = table_run(img, t, at, end, m);
	}
	return r < 0 ? -1 : 0;
}

static int map_run_locked(struct qcow2_image *img, uint64_t off, uint64_t len, bool scan,
			  struct qcow2_map_entry *m)
{
	int r;

	pthread_mutex_lock(&img->lock);
	r = map_run(img, off, len, scan, m);
	pthread_mutex_unlock(&img->lock);
	return r;
}

int qcow2_map(struct qcow2_image *img, uint64_t off, uint64_t len,
	      struct qcow2_map_entry *ent, int max)
{
	int n = 0, r = 0;

	if (qcow2_check_range(img, off, len) < 0)
		return -1;
	pthread_mutex_lock(&img->lock);
	while (len && n < max && r == 0) {
		r = map_run(img, off, len, false, &ent[n]);
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

	if (map_run_locked(img, off, len, false, &m) < 0)
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

	if (map_run_locked(img, off, len, true, &m) < 0)
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

/* Drop the scan mappings of every chain member: none outlives a call. */
static void map_chain_done(struct qcow2_image *img)
{
	for (; img; img = img->backing) {
		pthread_mutex_lock(&img->lock);
		qcow2_scan_unmap(img);
		pthread_mutex_unlock(&img->lock);
	}
}

int qcow2_map_chain(struct qcow2_image *img, uint64_t off, uint64_t len,
		    struct qcow2_chain_extent *ext, int max)
{
	int n = 0;

	if (qcow2_check_range(img, off, len) < 0)
		return -1;
	while (len) {
		struct qcow2_chain_extent x;

		if (chain_run(img, off, len, 0, &x) < 0) {
			n = -1;
			break;
		}
		if (!(n && chain_merge(&ext[n - 1], &x))) {
			if (n == max)
				break;
			ext[n++] = x;
		}
		off += x.len;
		len -= x.len;
	}
	map_chain_done(img);
	return n;
}

/* --- whole-image scans: allocated bytes and the allocation bitmap --- */

/* Adds the guest bytes with data (or compressed data) in this image
 * among the first `limit` guest bytes table t covers; with bm, also sets
 * the bit of each such cluster (base: the table's first guest cluster). */
static int table_scan(struct qcow2_image *img, const uint8_t *t, uint64_t limit,
		      uint64_t base, uint8_t *bm, struct qcow2_alloc *a)
{
	unsigned ubits = img->cbits - (img->extl2 ? 5 : 0);
	uint64_t n = MIN(img->l2_entries, (limit + img->cs - 1) >> img->cbits);

	for (uint64_t i = 0; i < n; i++) {
		uint64_t e, b;

		if (!img->extl2 && i + 8 <= n && eight_empty(t + i * 8)) {
			i += 7; /* the loop adds the eighth */
			continue;
		}
		if (qcow2_l2_empty(img, t, i))
			continue;
		e = qcow2_l2_get(img, t, i);
		b = qcow2_l2_bitmap(img, t, i);
		for (unsigned sc = 0; sc < qcow2_units(img); sc++) {
			uint64_t at = (i << img->cbits) + ((uint64_t)sc << ubits), host;
			enum qcow2_map_kind k;

			if (at >= limit)
				break;
			if (unit_kind(img, e, b, sc, &k, &host) < 0)
				return -1;
			if (k != QCOW2_MAP_DATA && k != QCOW2_MAP_COMPRESSED)
				continue;
			uint64_t unit = MIN(1ull << ubits, limit - at);
			a->bytes += unit;
			if (k == QCOW2_MAP_COMPRESSED)
				a->compressed += unit;
			if (bm)
				bm[(base + i) / 8] |= (uint8_t)(1u << ((base + i) % 8));
		}
	}
	return 0;
}

/* Guest bytes of L1 entry l1i inside the virtual size. */
static uint64_t l1_span(const struct qcow2_image *img, uint64_t l1i)
{
	unsigned tbits = img->l2_bits + img->cbits;

	return MIN(1ull << tbits, img->h.size - (l1i << tbits));
}

/* The L2 table of l1i to scan, or NULL when it cannot hold data: none,
 * or wholly past the end of the file (such a table reads as zeros). */
static int scan_table(struct qcow2_image *img, uint64_t l1i, uint64_t fsize,
		      const uint8_t **t)
{
	uint64_t off;

	*t = NULL;
	if (qcow2_l1_offset(img, l1i, &off) < 0)
		return -1;
	if (!off || off >= fsize)
		return 0;
	return qcow2_l2_table_scan(img, l1i, t);
}

static uint64_t l1_count(const struct qcow2_image *img)
{
	unsigned tbits = img->l2_bits + img->cbits;

	return MIN((img->h.size + (1ull << tbits) - 1) >> tbits, img->h.l1_size);
}

int qcow2_allocation_bitmap(struct qcow2_image *img, uint8_t *bm)
{
	uint64_t fsize = qcow2_io_size(img->fd), n = l1_count(img);
	struct qcow2_alloc a = { 0, 0 };
	int r = 0;

	if (img->raw)
		return err_set(EINVAL, "%s: not a qcow2 image", img->path);
	pthread_mutex_lock(&img->lock);
	for (uint64_t i = 0; i < n && r == 0; i++) {
		const uint8_t *t;

		r = scan_table(img, i, fsize, &t);
		if (r == 0 && t)
			r = table_scan(img, t, l1_span(img, i), i << img->l2_bits, bm, &a);
	}
	qcow2_scan_unmap(img);
	pthread_mutex_unlock(&img->lock);
	return r;
}

struct l1_ref {
	uint64_t off, l1i;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct l1_ref *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Allocated L1 entries sorted by table offset, so that entries sharing a
 * table (only in a hostile image) are next to each other. */
static int sorted_refs(struct qcow2_image *img, struct l1_ref **refs, uint64_t *nr)
{
	uint64_t n = l1_count(img);

	*nr = 0;
	*refs = malloc(MAX(n, 1) * sizeof **refs);
	if (!*refs)
		return err_set(ENOMEM, "%s: out of memory", img->path);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off;

		if (qcow2_l1_offset(img, i, &off) < 0) {
			free(*refs);
			return -1;
		}
		if (off)
			(*refs)[(*nr)++] = (struct l1_ref){ off, i };
	}
	qsort(*refs, *nr, sizeof **refs, ref_cmp);
	return 0;
}

static void alloc_add(struct qcow2_alloc *sum, const struct qcow2_alloc *part)
{
	sum->bytes += part->bytes;
	sum->compressed += part->compressed;
}

/* Data bytes of one group of L1 entries sharing a table: the table is
 * scanned once for a whole span and the count reused; only a partial last
 * span (the virtual size ends inside it) is scanned on its own.  So the
 * work is bounded by the distinct tables inside the file, at most
 * file_size / cluster_size of them, whatever the L1 table says. */
static int group_bytes(struct qcow2_image *img, const struct l1_ref *g, uint64_t ng,
		       uint64_t fsize, struct qcow2_alloc *a)
{
	uint64_t full = 1ull << (img->l2_bits + img->cbits);
	struct qcow2_alloc once = { 0, 0 };
	bool scanned = false;
	const uint8_t *t;

	if (g->off >= fsize)
		return 0;
	for (uint64_t j = 0; j < ng; j++) {
		uint64_t span = l1_span(img, g[j].l1i);
		struct qcow2_alloc part = { 0, 0 };

		if (span == full && scanned) {
			alloc_add(a, &once);
			continue;
		}
		if (qcow2_l2_table_scan(img, g[j].l1i, &t) < 0 ||
		    table_scan(img, t, span, 0, NULL, &part) < 0)
			return -1;
		alloc_add(a, &part);
		if (span == full)
			once = part, scanned = true;
	}
	return 0;
}

int qcow2_allocated_bytes(struct qcow2_image *img, struct qcow2_alloc *a)
{
	uint64_t fsize = qcow2_io_size(img->fd), nr, i = 0;
	struct l1_ref *refs;
	int r = 0;

	*a = (struct qcow2_alloc){ 0, 0 };
	pthread_mutex_lock(&img->lock);
	if (sorted_refs(img, &refs, &nr) < 0) {
		pthread_mutex_unlock(&img->lock);
		return -1;
	}
	while (i < nr && r == 0) {
		uint64_t j = i;

		while (j < nr && refs[j].off == refs[i].off)
			j++;
		r = group_bytes(img, &refs[i], j - i, fsize, a);
		i = j;
	}
	qcow2_scan_unmap(img);
	pthread_mutex_unlock(&img->lock);
	free(refs);
	return r;
}
