/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta/index: the hash index (uuid -> record run) and the allocation
 * bitmap of the record region.
 *
 * A bucket is one block: {magic, count, bucket number, crc} and up to
 * META_BUCKET_CAP entries {uuid, kind, nblocks, first block}.  uuids are
 * random, so the bucket is a hash of their bytes modulo the bucket count;
 * a lookup reads one block.  A bitmap block is {magic, index, crc} and
 * one bit per record block; runs are allocated first fit inside one
 * bitmap block.  Changed blocks are resealed (crc) just before commit. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "meta-int.h"

enum { H_MAGIC = 0, H_COUNT = 4, H_NO = 8, H_CRC = 12 };
enum { E_UUID = 0, E_KIND = 16, E_NBLOCKS = 18, E_FIRST = 20 };

static uint32_t block_crc(const unsigned char *blk)
{
	return meta_crc(blk, H_CRC, blk + META_HDR, META_BLOCK - META_HDR);
}

void ix_seal_block(unsigned char *blk)
{
	put32(blk + H_CRC, block_crc(blk));
}

/* FNV-1a over the 16 bytes: cheap and spreads non-random uuids too. */
uint32_t ix_bucket_of(const struct meta_area *a, const uint8_t uuid[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ uuid[i]) * 16777619u;
	return h % a->g.nbuckets;
}

void ix_init_bucket(unsigned char *blk, uint32_t bucket)
{
	memset(blk, 0, META_BLOCK);
	put32(blk + H_MAGIC, META_IX_MAGIC);
	put32(blk + H_NO, bucket);
	ix_seal_block(blk);
}

void bm_init_block(unsigned char *blk, uint32_t index)
{
	memset(blk, 0, META_BLOCK);
	put32(blk + H_MAGIC, META_BM_MAGIC);
	put32(blk + H_NO, index);
	ix_seal_block(blk);
}

static unsigned char *entry_at(unsigned char *blk, uint32_t i)
{
	return blk + META_HDR + (size_t)i * META_ENTRY;
}

void ix_entry_decode(const unsigned char *p, struct meta_entry *e)
{
	memcpy(e->uuid, p + E_UUID, 16);
	e->kind = p[E_KIND];
	e->nblocks = (uint16_t)(p[E_NBLOCKS] | p[E_NBLOCKS + 1] << 8);
	e->first = get32(p + E_FIRST);
}

static void entry_encode(unsigned char *p, const struct meta_entry *e)
{
	memset(p, 0, META_ENTRY);
	memcpy(p + E_UUID, e->uuid, 16);
	p[E_KIND] = e->kind;
	p[E_NBLOCKS] = (unsigned char)e->nblocks;
	p[E_NBLOCKS + 1] = (unsigned char)(e->nblocks >> 8);
	put32(p + E_FIRST, e->first);
}

static bool entry_ok(const struct meta_area *a, const struct meta_entry *e)
{
	return e->kind >= MK_SR && e->kind <= MK_JOURNAL && e->nblocks >= 1 &&
	       e->nblocks <= META_REC_BLOCKS_MAX && e->first >= a->g.rec_start &&
	       (uint64_t)e->first + e->nblocks <= (uint64_t)a->g.rec_start + a->g.rec_blocks;
}

int ix_check_bucket(const struct meta_area *a, uint32_t bucket, const unsigned char *blk)
{
	uint32_t count = get32(blk + H_COUNT);

	if (get32(blk + H_MAGIC) != META_IX_MAGIC || get32(blk + H_NO) != bucket ||
	    get32(blk + H_CRC) != block_crc(blk) || count > META_BUCKET_CAP)
		return err_corrupt("metadata index: bucket %u is damaged", bucket);
	for (uint32_t i = 0; i < count; i++) {
		struct meta_entry e;
		ix_entry_decode(entry_at((unsigned char *)blk, i), &e);
		if (!entry_ok(a, &e))
			return err_corrupt("metadata index: bucket %u entry %u is out of range",
					   bucket, i);
	}
	return 0;
}

/* Index of uuid in the checked bucket block, or -1. */
static int bucket_find(unsigned char *blk, const uint8_t uuid[16])
{
	uint32_t count = get32(blk + H_COUNT);

	for (uint32_t i = 0; i < count; i++)
		if (!memcmp(entry_at(blk, i) + E_UUID, uuid, 16))
			return (int)i;
	return -1;
}

static int bucket_get(struct meta_area *a, const uint8_t uuid[16], bool dirty,
		      unsigned char *scratch, unsigned char **blk)
{
	uint32_t b = ix_bucket_of(a, uuid);

	if (dirty) {
		if (area_dirty(a, a->g.index_start + b, blk) < 0)
			return -1;
	} else {
		*blk = scratch;
		if (area_read(a, a->g.index_start + b, scratch) < 0)
			return -1;
	}
	/* Dirty blocks are resealed at commit: check their shape only. */
	if (dirty && get32(*blk + H_MAGIC) == META_IX_MAGIC && get32(*blk + H_NO) == b &&
	    get32(*blk + H_COUNT) <= META_BUCKET_CAP)
		return 0;
	return ix_check_bucket(a, b, *blk);
}

/* 0 and *out, or -1 with ENOENT (not recorded as a failure message). */
int ix_lookup(struct meta_area *a, const uint8_t uuid[16], struct meta_entry *out)
{
	unsigned char scratch[META_BLOCK], *blk;
	int i;

	if (bucket_get(a, uuid, false, scratch, &blk) < 0)
		return -1;
	if ((i = bucket_find(blk, uuid)) < 0)
		return err_set(ENOENT, "not in the metadata index");
	ix_entry_decode(entry_at(blk, (uint32_t)i), out);
	return 0;
}

int ix_insert(struct meta_area *a, const struct meta_entry *e)
{
	unsigned char *blk;
	uint32_t count;

	if (bucket_get(a, e->uuid, true, NULL, &blk) < 0)
		return -1;
	if (bucket_find(blk, e->uuid) >= 0)
		return err_set(EEXIST, "metadata index: object already present");
	count = get32(blk + H_COUNT);
	if (count >= META_BUCKET_CAP)
		return err_set(ENOSPC, "SR metadata index full (bucket %u holds %u objects)",
			       ix_bucket_of(a, e->uuid), count);
	entry_encode(entry_at(blk, count), e);
	put32(blk + H_COUNT, count + 1);
	return 0;
}

int ix_update(struct meta_area *a, const struct meta_entry *e)
{
	unsigned char *blk;
	int i;

	if (bucket_get(a, e->uuid, true, NULL, &blk) < 0)
		return -1;
	if ((i = bucket_find(blk, e->uuid)) < 0)
		return err_corrupt("metadata index: entry vanished");
	entry_encode(entry_at(blk, (uint32_t)i), e);
	return 0;
}

/* Swap the last entry into the hole: order inside a bucket is free. */
int ix_delete(struct meta_area *a, const uint8_t uuid[16])
{
	unsigned char *blk;
	uint32_t count;
	int i;

	if (bucket_get(a, uuid, true, NULL, &blk) < 0)
		return -1;
	if ((i = bucket_find(blk, uuid)) < 0)
		return err_corrupt("metadata index: entry vanished");
	count = get32(blk + H_COUNT);
	if ((uint32_t)i != count - 1)
		memcpy(entry_at(blk, (uint32_t)i), entry_at(blk, count - 1), META_ENTRY);
	memset(entry_at(blk, count - 1), 0, META_ENTRY);
	put32(blk + H_COUNT, count - 1);
	return 0;
}

static int bm_check(const struct meta_area *a, uint32_t i, const unsigned char *blk)
{
	if (get32(blk + H_MAGIC) != META_BM_MAGIC || get32(blk + H_NO) != i ||
	    get32(blk + H_CRC) != block_crc(blk))
		return err_corrupt("metadata bitmap: block %u is damaged", i);
	return 0;
}

static bool bit(const unsigned char *blk, uint32_t b)
{
	return blk[META_HDR + b / 8] >> (b % 8) & 1;
}

static void set_bits(unsigned char *blk, uint32_t b, uint32_t n, bool on)
{
	for (uint32_t i = b; i < b + n; i++) {
		unsigned char m = (unsigned char)(1u << (i % 8));
		blk[META_HDR + i / 8] = on ? blk[META_HDR + i / 8] | m : blk[META_HDR + i / 8] & ~m;
	}
}

/* First run of n clear bits in blk below limit, or -1. */
static int64_t first_fit(const unsigned char *blk, uint32_t limit, uint32_t n)
{
	uint32_t run = 0;

	for (uint32_t b = 0; b < limit; b++) {
		if (run == 0 && b % 8 == 0 && b + 8 <= limit && blk[META_HDR + b / 8] == 0xff) {
			b += 7;
			continue;
		}
		run = bit(blk, b) ? 0 : run + 1;
		if (run == n)
			return (int64_t)(b + 1 - n);
	}
	return -1;
}

static uint32_t bits_in(const struct meta_area *a, uint32_t i)
{
	uint64_t left = a->g.rec_blocks - (uint64_t)i * META_BITS_PER_BLOCK;

	return left < META_BITS_PER_BLOCK ? (uint32_t)left : META_BITS_PER_BLOCK;
}

int bm_alloc(struct meta_area *a, uint32_t n, uint32_t *first)
{
	unsigned char scratch[META_BLOCK], *blk;

	assert(n >= 1 && n <= META_REC_BLOCKS_MAX);
	for (uint32_t i = 0; i < a->g.bitmap_blocks; i++) {
		int64_t b;
		if (area_read(a, a->g.bitmap_start + i, scratch) < 0)
			return -1;
		if (!blk_is_dirty(a, a->g.bitmap_start + i) && bm_check(a, i, scratch) < 0)
			return -1;
		if ((b = first_fit(scratch, bits_in(a, i), n)) < 0)
			continue;
		if (area_dirty(a, a->g.bitmap_start + i, &blk) < 0)
			return -1;
		set_bits(blk, (uint32_t)b, n, true);
		*first = a->g.rec_start + i * META_BITS_PER_BLOCK + (uint32_t)b;
		return 0;
	}
	return err_set(ENOSPC, "SR metadata area full (no run of %u free blocks)", n);
}

int bm_free(struct meta_area *a, uint32_t first, uint32_t n)
{
	uint32_t rel = first - a->g.rec_start, i = rel / META_BITS_PER_BLOCK;
	unsigned char *blk;
	bool was_dirty = blk_is_dirty(a, a->g.bitmap_start + i);

	if (rel % META_BITS_PER_BLOCK + n > META_BITS_PER_BLOCK)
		return err_corrupt("metadata index: record at %u crosses a bitmap block", first);
	if (area_dirty(a, a->g.bitmap_start + i, &blk) < 0 || (!was_dirty && bm_check(a, i, blk) < 0))
		return -1;
	set_bits(blk, rel % META_BITS_PER_BLOCK, n, false);
	return 0;
}

/* Mark the run of e in seen; -1 if a block of it is clear in the bitmap
 * bm (all bitmap blocks in a row) or already marked by another run. */
static int run_claim(const struct meta_area *a, const unsigned char *bm, uint8_t *seen,
		     const struct meta_entry *e)
{
	for (uint32_t j = 0; j < e->nblocks; j++) {
		uint32_t r = e->first - a->g.rec_start + j;
		const unsigned char *blk = bm + (size_t)(r / META_BITS_PER_BLOCK) * META_BLOCK;
		if (!bit(blk, r % META_BITS_PER_BLOCK))
			return err_corrupt("metadata bitmap: block %u of a record is marked free",
					   e->first + j);
		if (seen[r / 8] >> (r % 8) & 1)
			return err_corrupt("metadata index: two records share block %u", e->first + j);
		seen[r / 8] |= (uint8_t)(1u << (r % 8));
	}
	return 0;
}

int bm_check_runs(struct meta_area *a, const struct meta_entry *e, size_t n)
{
	unsigned char *bm = malloc((size_t)a->g.bitmap_blocks * META_BLOCK);
	uint8_t *seen = calloc(a->g.rec_blocks / 8 + 1, 1);
	int rc = -1;

	if (!bm || !seen) {
		err_set(ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < a->g.bitmap_blocks; i++)
		if (area_read(a, a->g.bitmap_start + i, bm + (size_t)i * META_BLOCK) < 0 ||
		    bm_check(a, i, bm + (size_t)i * META_BLOCK) < 0)
			goto out;
	for (size_t i = 0; i < n; i++)
		if (run_claim(a, bm, seen, &e[i]) < 0)
			goto out;
	rc = 0;
out:
	free(bm);
	free(seen);
	return rc;
}

/* Recompute the crc of every changed index and bitmap block. */
void ix_seal(struct meta_area *a)
{
	for (size_t i = 0; i < a->ndirty; i++) {
		uint32_t no = a->dirty[i].no;
		if (no >= a->g.index_start && no < a->g.rec_start)
			ix_seal_block(a->dirty[i].data);
	}
}
