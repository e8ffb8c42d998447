/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-repair.c: repair of refcounts, the write side of the checker.
 *
 * Refcounts are never patched in place: the new refcount blocks and table
 * are built in memory from the counted references, written to clusters
 * that nothing uses (at the end of the file, or a free run inside a block
 * device), synced, and only then does one 12-byte header write switch
 * refcount_table_offset/clusters to them.  A crash before that switch
 * leaves the old, consistent-or-leaky structures; after it, the new ones.
 * The old table and blocks simply become free clusters.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/log.h"
#include "check-int.h"

#define HDR_REFTABLE_OFFSET 48
#define HDR_INCOMPAT 72

static int chk_write(struct chk *c, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(c->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_sys("write at 0x%llx: %m", (unsigned long long)off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int chk_sync(struct chk *c)
{
	return fdatasync(c->fd) < 0 ? err_sys("fdatasync: %m") : 0;
}

/* The refcount each cluster gets: the reference count where the repair
 * flags allow fixing the difference, the stored value otherwise. */
static uint64_t target_of(struct chk *c, uint64_t k)
{
	uint64_t s = c->stored[k], r = c->refs[k];

	if (s == r)
		return s;
	if (s == CHK_STORED_ERR || (c->flags & QCOW2_REPAIR_ALL)) {
		if (s != CHK_STORED_ERR)
			*(s > r ? &c->res->leaks_fixed : &c->res->corruptions_fixed) += 1;
		return r;
	}
	if (s > r) {
		c->res->leaks_fixed++;
		return r;
	}
	return s;
}

/* Clusters of the refcount structures being replaced lose one reference. */
static void drop_old_structures(struct chk *c)
{
	uint64_t first = c->h.refcount_table_offset >> c->cbits;

	for (uint64_t k = first; k < first + c->h.refcount_table_clusters && k < c->ntarget; k++)
		if (c->target[k])
			c->target[k]--;
	for (uint64_t i = 0; i < c->reftable_n; i++) {
		uint64_t off = c->reftable[i] & QCOW2_REFT_OFFSET_MASK;
		uint64_t k = off >> c->cbits;
		if (off && !(c->reftable[i] & QCOW2_REFT_RESERVED_MASK) &&
		    IS_ALIGNED(off, c->cs) && k < c->ntarget && c->target[k])
			c->target[k]--;
	}
}

static int build_target(struct chk *c, uint64_t n)
{
	c->target = calloc(MAX(n, 1), sizeof *c->target);
	if (c->target == NULL)
		return err_set(ENOMEM, "out of memory for %llu refcounts", (unsigned long long)n);
	c->ntarget = n;
	for (uint64_t k = 0; k < c->nrefs; k++) {
		uint64_t t = target_of(c, k);
		c->target[k] = (uint32_t)MIN(t, (uint64_t)CHK_STORED_MAX);
	}
	drop_old_structures(c);
	return 0;
}

/* Refcount blocks and table needed to describe `clusters` clusters. */
static void layout_size(const struct chk *c, uint64_t clusters, uint64_t *nb, uint64_t *nt)
{
	*nb = DIV_ROUND_UP(clusters, c->rb_entries);
	*nt = DIV_ROUND_UP(*nb * 8, c->cs);
}

/* First run of len clusters that nothing references and nothing will. */
static bool find_free_run(const struct chk *c, uint64_t len, uint64_t *start)
{
	uint64_t run = 0;

	for (uint64_t k = 1; k < c->nrefs; k++) {
		run = (c->refs[k] || c->target[k]) ? 0 : run + 1;
		if (run == len) {
			*start = k + 1 - len;
			return true;
		}
	}
	return false;
}

/* Where the new structures go: appended after everything in use (they
 * then also describe themselves), or inside when the file cannot grow. */
static int place(struct chk *c, uint64_t *start, uint64_t *nb, uint64_t *nt, uint64_t *cover)
{
	uint64_t s = c->nrefs, n = c->nrefs, last = 0;

	do {
		last = n;
		layout_size(c, n, nb, nt);
		n = MAX(c->nrefs, s + *nb + *nt);
	} while (n != last);
	if (c->growable || n << c->cbits <= c->file_size) {
		*start = s;
		*cover = n;
		return 0;
	}
	layout_size(c, c->nrefs, nb, nt);
	if (!find_free_run(c, *nb + *nt, start))
		return err_set(ENOSPC, "no room in the device for new refcount structures");
	*cover = c->nrefs;
	return 0;
}

static int grow_target(struct chk *c, uint64_t n)
{
	uint32_t *p;

	if (n <= c->ntarget)
		return 0;
	p = realloc(c->target, n * sizeof *p);
	if (p == NULL)
		return err_set(ENOMEM, "out of memory");
	memset(p + c->ntarget, 0, (n - c->ntarget) * sizeof *p);
	c->target = p;
	c->ntarget = n;
	return 0;
}

static int write_blocks(struct chk *c, uint64_t start, uint64_t nb)
{
	CLEANUP_FREE uint8_t *rb = malloc(c->cs);

	if (rb == NULL)
		return err_set(ENOMEM, "out of memory");
	for (uint64_t b = 0; b < nb; b++) {
		memset(rb, 0, c->cs);
		for (uint64_t i = 0; i < c->rb_entries && b * c->rb_entries + i < c->ntarget; i++)
			chk_refblock_set(c, rb, i, c->target[b * c->rb_entries + i]);
		if (chk_write(c, rb, c->cs, (start + b) << c->cbits) < 0)
			return -1;
	}
	return 0;
}

static int write_table(struct chk *c, uint64_t start, uint64_t nb, uint64_t nt)
{
	CLEANUP_FREE uint8_t *t = calloc(nt, c->cs);

	if (t == NULL)
		return err_set(ENOMEM, "out of memory");
	for (uint64_t b = 0; b < nb; b++)
		be64_put(t + b * 8, (start + b) << c->cbits);
	return chk_write(c, t, nt << c->cbits, (start + nb) << c->cbits);
}

static int switch_header(struct chk *c, uint64_t table_off, uint64_t nt)
{
	uint8_t b[12];

	be64_put(b, table_off);
	be32_put(b + 8, (uint32_t)nt);
	if (chk_write(c, b, sizeof b, HDR_REFTABLE_OFFSET) < 0 || chk_sync(c) < 0)
		return -1;
	c->old_rt_off = c->h.refcount_table_offset;
	c->old_rt_clusters = c->h.refcount_table_clusters;
	c->h.refcount_table_offset = table_off;
	c->h.refcount_table_clusters = (uint32_t)nt;
	return 0;
}

int chk_repair_refcounts(struct chk *c)
{
	uint64_t start = 0, nb = 0, nt = 0, cover = 0;

	if (build_target(c, c->nrefs) < 0 || place(c, &start, &nb, &nt, &cover) < 0)
		return -1;
	if ((nt << c->cbits) > QCOW2_MAX_REFTABLE_BYTES)
		return err_set(EFBIG, "refcount table would exceed %u bytes", QCOW2_MAX_REFTABLE_BYTES);
	if (grow_target(c, cover) < 0)
		return -1;
	for (uint64_t k = start; k < start + nb + nt; k++)
		c->target[k] = 1;
	log_info("check: writing %llu refcount blocks and a %llu-cluster table at 0x%llx",
		 (unsigned long long)nb, (unsigned long long)nt,
		 (unsigned long long)(start << c->cbits));
	if (write_blocks(c, start, nb) < 0 || write_table(c, start, nb, nt) < 0 || chk_sync(c) < 0)
		return -1;
	return switch_header(c, (start + nb) << c->cbits, nt);
}

static bool want_copied(const struct chk *c, uint64_t off)
{
	uint64_t k = off >> c->cbits;

	return k < c->ntarget && c->target[k] == 1;
}

/* Set one entry's COPIED flag as the new refcounts say; true if changed. */
static bool fix_copied(struct chk *c, uint8_t *p, uint64_t off)
{
	uint64_t e = be64_get(p);
	bool want = want_copied(c, off);

	if (((e & QCOW2_OFLAG_COPIED) != 0) == want)
		return false;
	be64_put(p, want ? e | QCOW2_OFLAG_COPIED : e & ~QCOW2_OFLAG_COPIED);
	c->res->corruptions_fixed++;
	return true;
}

static int fix_l2(struct chk *c, uint64_t l2_off, uint8_t *tbl)
{
	bool dirty = false;

	if (chk_read(c, tbl, c->cs, l2_off) < 0)
		return -1;
	for (uint64_t i = 0; i < c->l2_entries; i++) {
		uint8_t *p = tbl + i * c->l2e_size;
		uint64_t e = be64_get(p), off = e & QCOW2_L2E_OFFSET_MASK;
		if (!(e & QCOW2_OFLAG_COMPRESSED) && off && IS_ALIGNED(off, c->cs))
			dirty |= fix_copied(c, p, off);
	}
	return dirty ? chk_write(c, tbl, c->cs, l2_off) : 0;
}

/* L2 tables first, then the L1: the flags only say whether a cluster may
 * be overwritten in place, and each table write is independent. */
int chk_repair_copied(struct chk *c)
{
	CLEANUP_FREE uint8_t *tbl = malloc(c->cs);
	CLEANUP_FREE uint8_t *l1 = malloc(MAX((size_t)c->h.l1_size * 8, 8));
	bool dirty = false;

	if (tbl == NULL || l1 == NULL)
		return err_set(ENOMEM, "out of memory");
	for (uint32_t i = 0; i < c->h.l1_size; i++) {
		uint64_t l2 = c->l1[i] & QCOW2_L1E_OFFSET_MASK;
		be64_put(l1 + (size_t)i * 8, c->l1[i]);
		if (!l2 || !IS_ALIGNED(l2, c->cs) || (c->l1[i] & QCOW2_L1E_RESERVED_MASK))
			continue;
		if (fix_l2(c, l2, tbl) < 0)
			return -1;
		dirty |= fix_copied(c, l1 + (size_t)i * 8, l2);
	}
	if (chk_sync(c) < 0)
		return -1;
	if (dirty && (chk_write(c, l1, (size_t)c->h.l1_size * 8, c->h.l1_table_offset) < 0 ||
		      chk_sync(c) < 0))
		return -1;
	return 0;
}

/* A clean image after a repair: the dirty and corrupt bits go. */
int chk_mark_consistent(struct chk *c)
{
	uint64_t bits = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT;
	uint8_t b[8];

	if (c->fd < 0 || c->h.version < 3 || !(c->h.incompatible_features & bits))
		return 0;
	be64_put(b, c->h.incompatible_features & ~bits);
	if (chk_write(c, b, sizeof b, HDR_INCOMPAT) < 0 || chk_sync(c) < 0)
		return -1;
	log_info("check: image marked consistent");
	return 0;
}
