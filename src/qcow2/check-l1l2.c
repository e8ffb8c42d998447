/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-l1l2.c: walk an L1 table and its L2 tables, counting a reference
 * for every L2 table, data cluster and compressed range, and classifying
 * bad entries the way qemu-img check does.  The active table also feeds
 * the allocation statistics and the COPIED-flag check (COPIED must be set
 * exactly when the stored refcount is 1). */
#include <stdlib.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "check-int.h"

int chk_read_l1(struct chk *c, uint64_t off, uint32_t n, uint64_t **out)
{
	uint64_t *l1 = malloc(MAX((size_t)n, 1) * 8);

	if (l1 == NULL)
		return err_set(ENOMEM, "out of memory for an L1 table of %u entries", n);
	if (chk_read(c, l1, (size_t)n * 8, off) < 0) {
		free(l1);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		l1[i] = be64_get((const uint8_t *)&l1[i]);
	*out = l1;
	return 0;
}

/* COPIED must equal (stored refcount == 1); unreadable refcounts are
 * skipped silently (they are reported by the comparison). */
static void check_copied(struct chk *c, uint64_t host_off, bool copied, const char *what)
{
	uint64_t rc;

	if (chk_stored_get(c, host_off >> c->cbits, &rc) < 0)
		return;
	if ((rc == 1) != copied) {
		chk_warn(c, "COPIED flag wrong for %s at 0x%llx (refcount %llu)", what,
			 (unsigned long long)host_off, (unsigned long long)rc);
		c->res->corruptions++;
	}
}

struct l2_walk {
	bool active;
	uint64_t next_contig;   /* fragmentation: where the next cluster would be */
};

static int l2_compressed(struct chk *c, uint64_t e, uint64_t bitmap, struct l2_walk *w)
{
	uint64_t coff = e & c->coff_mask;
	uint64_t nsec = ((e >> c->csize_shift) & c->csize_mask) + 1;

	if (e & QCOW2_OFLAG_COPIED) {
		chk_warn(c, "COPIED flag set on compressed cluster at 0x%llx",
			 (unsigned long long)coff);
		c->res->corruptions++;
	}
	if (bitmap) {
		chk_warn(c, "compressed cluster at 0x%llx has a subcluster bitmap",
			 (unsigned long long)coff);
		c->res->corruptions++;
		return 0;
	}
	if (w->active) {
		c->res->allocated_clusters++;
		c->res->compressed_clusters++;
		c->res->fragmented_clusters++;
	}
	return chk_ref_range(c, coff, nsec * 512 - (coff & 511));
}

static int l2_allocated(struct chk *c, uint64_t e, uint64_t bitmap, struct l2_walk *w)
{
	uint64_t off = e & QCOW2_L2E_OFFSET_MASK;

	if ((bitmap >> 32) & bitmap) {
		chk_warn(c, "cluster at 0x%llx: subcluster both allocated and zero",
			 (unsigned long long)off);
		c->res->corruptions++;
	}
	if (!IS_ALIGNED(off, c->cs)) {
		chk_warn(c, "cluster at 0x%llx not aligned; L2 entry corrupted",
			 (unsigned long long)off);
		c->res->corruptions++;
	}
	if (w->active) {
		c->res->allocated_clusters++;
		if (w->next_contig && off != w->next_contig)
			c->res->fragmented_clusters++;
		w->next_contig = off + c->cs;
		check_copied(c, off, e & QCOW2_OFLAG_COPIED, "data cluster");
	}
	return chk_ref_range(c, off, c->cs);
}

static int l2_entry(struct chk *c, uint64_t e, uint64_t bitmap, struct l2_walk *w)
{
	if (e & QCOW2_OFLAG_COMPRESSED)
		return l2_compressed(c, e, bitmap, w);
	if (e & QCOW2_L2E_STD_RESERVED_MASK) {
		chk_warn(c, "L2 entry 0x%llx has reserved bits set", (unsigned long long)e);
		c->res->corruptions++;
	}
	if ((e & QCOW2_OFLAG_ZERO) && !c->extl2 && !(e & QCOW2_L2E_OFFSET_MASK))
		return 0;
	if (e & QCOW2_L2E_OFFSET_MASK)
		return l2_allocated(c, e, bitmap, w);
	if (bitmap & 0xffffffffu) {
		chk_warn(c, "unallocated cluster has subclusters allocated");
		c->res->corruptions++;
	}
	return 0;
}

static int walk_l2(struct chk *c, const uint8_t *tbl, uint64_t tag, void *opaque)
{
	struct l2_walk w = { .active = *(bool *)opaque };

	for (uint64_t i = 0; i < c->l2_entries; i++) {
		const uint8_t *p = tbl + i * c->l2e_size;
		uint64_t bitmap = c->extl2 ? be64_get(p + 8) : 0;
		if (l2_entry(c, be64_get(p), bitmap, &w) < 0)
			return -1;
	}
	return 0;
}

/* One L1 entry: its own checks and a reference to its L2 table. */
static void l1_entry(struct chk *c, uint32_t i, uint64_t e, bool active)
{
	uint64_t l2 = e & QCOW2_L1E_OFFSET_MASK;

	if (e & QCOW2_L1E_RESERVED_MASK) {
		chk_warn(c, "L1 entry %u (0x%llx) has reserved bits set", i, (unsigned long long)e);
		c->res->corruptions++;
	}
	if (!IS_ALIGNED(l2, c->cs)) {
		chk_warn(c, "L2 table at 0x%llx not aligned; L1 entry %u corrupted",
			 (unsigned long long)l2, i);
		c->res->corruptions++;
	}
	if (active && l2)
		check_copied(c, l2, e & QCOW2_OFLAG_COPIED, "L2 table");
}

int chk_walk_l1(struct chk *c, const uint64_t *l1, uint32_t l1_size, bool active)
{
	CLEANUP_FREE struct chk_table *t = malloc(MAX((size_t)l1_size, 1) * sizeof *t);
	size_t n = 0;

	if (t == NULL)
		return err_set(ENOMEM, "out of memory for %u L2 tables", l1_size);
	for (uint32_t i = 0; i < l1_size; i++) {
		uint64_t l2 = l1[i] & QCOW2_L1E_OFFSET_MASK;
		if (l1[i] == 0)
			continue;
		l1_entry(c, i, l1[i], active);
		if (chk_ref_range(c, l2, c->cs) < 0)
			return -1;
		t[n++] = (struct chk_table){ .off = l2, .tag = i };
	}
	return chk_read_tables(c, t, n, c->cs, walk_l2, &active);
}
