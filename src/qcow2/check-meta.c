/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-meta.c: references from the structures other than the active
 * L1/L2: internal snapshots (their table and each snapshot's L1/L2), the
 * persistent-bitmap directory with its tables and data, and the refcount
 * blocks themselves (which must be referenced exactly once). */
#include <stdlib.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "check-int.h"

#define SNAP_HEADER_LEN 40
#define SNAP_MAX_EXTRA 1024
#define SNAP_MAX_COUNT 65536u
#define SNAP_MAX_TABLE (SNAP_MAX_COUNT * 1024ull)
#define SNAP_MAX_L1 (QCOW2_MAX_L1_BYTES / 8)
#define BITMAP_ENTRY_LEN 24
#define BITMAP_MAX_TABLE (1u << 24)
#define BITMAP_TABLE_OFFSET_MASK 0x00fffffffffffe00ull

static int walk_snapshot_l1(struct chk *c, uint32_t i, uint64_t l1_off, uint32_t l1_size)
{
	CLEANUP_FREE uint64_t *l1 = NULL;

	if (!IS_ALIGNED(l1_off, c->cs)) {
		chk_warn(c, "snapshot %u: L1 table at 0x%llx not aligned", i,
			 (unsigned long long)l1_off);
		c->res->corruptions++;
		return 0;
	}
	if (l1_size > SNAP_MAX_L1) {
		chk_warn(c, "snapshot %u: L1 table too large (%u entries)", i, l1_size);
		c->res->corruptions++;
		return 0;
	}
	if (l1_size == 0)
		return 0;
	if (chk_ref_range(c, l1_off, (uint64_t)l1_size * 8) < 0 ||
	    chk_read_l1(c, l1_off, l1_size, &l1) < 0)
		return -1;
	return chk_walk_l1(c, l1, l1_size, false);
}

/* One entry at *off: its L1 walked, *off moved past it (entries are
 * variable-sized: header, extra data, id, name, padded to 8). */
static int walk_snapshot(struct chk *c, uint32_t i, uint64_t *off)
{
	uint8_t b[SNAP_HEADER_LEN];
	uint32_t extra;
	uint64_t len;

	if (chk_read(c, b, sizeof b, *off) < 0)
		return -1;
	extra = be32_get(b + 36);
	len = SNAP_HEADER_LEN + (uint64_t)extra + (uint64_t)(b[12] << 8 | b[13]) +
	      (uint64_t)(b[14] << 8 | b[15]);
	if (extra > SNAP_MAX_EXTRA)
		return err_corrupt("snapshot %u: too much extra data (%u bytes)", i, extra);
	if (c->h.version >= 3 && extra < 16) {
		chk_warn(c, "snapshot table entry %u is incomplete", i);
		c->res->corruptions++;
	}
	*off += (len + 7) & ~7ull;
	if (*off - c->h.snapshots_offset > SNAP_MAX_TABLE)
		return err_corrupt("snapshot table is too big");
	return walk_snapshot_l1(c, i, be64_get(b), be32_get(b + 8));
}

int chk_walk_snapshots(struct chk *c)
{
	uint64_t off = c->h.snapshots_offset;

	if (c->h.nb_snapshots > SNAP_MAX_COUNT ||
	    INT64_MAX - (uint64_t)c->h.nb_snapshots * SNAP_HEADER_LEN < off ||
	    !IS_ALIGNED(off, c->cs))
		return err_corrupt("snapshot table offset invalid");
	for (uint32_t i = 0; i < c->h.nb_snapshots; i++)
		if (walk_snapshot(c, i, &off) < 0)
			return -1;
	c->snapshots_size = off - c->h.snapshots_offset;
	return chk_ref_range(c, c->h.snapshots_offset, c->snapshots_size);
}

static int walk_bitmap_table(struct chk *c, uint64_t off, uint32_t n)
{
	CLEANUP_FREE uint8_t *t = NULL;

	if (n > BITMAP_MAX_TABLE || !IS_ALIGNED(off, c->cs))
		return err_corrupt("bitmap table at 0x%llx (%u entries) invalid",
				   (unsigned long long)off, n);
	if (n == 0)
		return 0;
	if ((t = malloc((size_t)n * 8)) == NULL)
		return err_set(ENOMEM, "out of memory for a bitmap table");
	if (chk_ref_range(c, off, (uint64_t)n * 8) < 0 || chk_read(c, t, (size_t)n * 8, off) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t data = be64_get(t + (size_t)i * 8) & BITMAP_TABLE_OFFSET_MASK;
		if (data && chk_ref_range(c, data, c->cs) < 0)
			return -1;
	}
	return 0;
}

static int walk_bitmap_dir(struct chk *c, const uint8_t *d, uint64_t size, uint32_t nb)
{
	uint64_t pos = 0;

	for (uint32_t i = 0; i < nb; i++) {
		if (size - pos < BITMAP_ENTRY_LEN)
			return err_corrupt("bitmap directory truncated at entry %u", i);
		const uint8_t *e = d + pos;
		uint64_t len = BITMAP_ENTRY_LEN + (uint64_t)be32_get(e + 20) + (e[18] << 8 | e[19]);
		if (walk_bitmap_table(c, be64_get(e), be32_get(e + 8)) < 0)
			return -1;
		pos += (len + 7) & ~7ull;
		if (pos > size)
			return err_corrupt("bitmap directory entry %u overruns the directory", i);
	}
	return 0;
}

/* Only a consistent bitmaps extension (autoclear bit set) counts, as in
 * qemu: otherwise its clusters are leaks. */
int chk_walk_bitmaps(struct chk *c)
{
	CLEANUP_FREE uint8_t *dir = NULL;
	uint64_t size = c->bm_dir_size, off = c->bm_dir_off;

	if (!c->has_bitmaps || size == 0)
		return 0;
	if ((dir = malloc(size)) == NULL)
		return err_set(ENOMEM, "out of memory for the bitmap directory");
	if (chk_ref_range(c, off, size) < 0 || chk_read(c, dir, size, off) < 0)
		return -1;
	return walk_bitmap_dir(c, dir, size, c->bm_nb);
}

static int refblock_entry(struct chk *c, uint64_t i)
{
	uint64_t e = c->reftable[i];
	uint64_t off = e & QCOW2_REFT_OFFSET_MASK;
	const char *bad = NULL;

	if (e & QCOW2_REFT_RESERVED_MASK)
		bad = "has reserved bits set";
	else if (!IS_ALIGNED(off, c->cs))
		bad = "is not aligned";
	else if ((off >> c->cbits) >= c->nrefs)
		bad = "is outside the image";
	if (bad) {
		chk_warn(c, "refcount table entry %llu (0x%llx) %s", (unsigned long long)i,
			 (unsigned long long)e, bad);
		c->res->corruptions++;
		c->rebuild = true;
		return 0;
	}
	if (off == 0)
		return 0;
	if (chk_ref_range(c, off, c->cs) < 0)
		return -1;
	if (chk_refs_get(c, off >> c->cbits) != 1) {
		chk_warn(c, "refcount block %llu at 0x%llx is referenced %llu times",
			 (unsigned long long)i, (unsigned long long)off,
			 (unsigned long long)chk_refs_get(c, off >> c->cbits));
		c->res->corruptions++;
		c->rebuild = true;
	}
	return 0;
}

int chk_walk_refblocks(struct chk *c)
{
	for (uint64_t i = 0; i < c->reftable_n; i++)
		if (refblock_entry(c, i) < 0)
			return -1;
	return 0;
}
