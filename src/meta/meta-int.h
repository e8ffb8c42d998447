/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta-int.h: private layout and helpers shared by the files of src/meta/.
 *
 * Area (units of META_BLOCK; all integers little-endian):
 *   0, 1      superblock copies (struct sb below), written by meta_format
 *   WAL       1 header block + up to META_WAL_DATA data blocks
 *   index     META_NBUCKETS bucket blocks: 16-byte header + 127 entries
 *   bitmap    META_BITMAP_BLOCKS blocks: 16-byte header + bits
 *   records   runs of 1..16 blocks, one per object
 * Every index, bitmap and record block run carries a crc32.
 */
#ifndef LQ_META_INT_H
#define LQ_META_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lq/meta.h"

#define META_WAL_DATA 255u
#define META_NBUCKETS 1024u
#define META_BITMAP_BLOCKS 1u
#define META_HDR 16u                       /* bucket and bitmap block header */
#define META_BITS_PER_BLOCK ((META_BLOCK - META_HDR) * 8u)
#define META_ENTRY 32u
#define META_BUCKET_CAP ((META_BLOCK - META_HDR) / META_ENTRY)
#define META_REC_HDR 32u

#define META_SB_MAGIC "LQMETASB"
#define META_WAL_MAGIC "LQMETAWL"
/* The WAL header once its transaction is durable at home: nothing to replay. */
#define META_WAL_DONE "LQMETAWD"
#define META_IX_MAGIC 0x5849514cu  /* "LQIX" */
#define META_BM_MAGIC 0x4d42514cu  /* "LQBM" */
#define META_RC_MAGIC 0x4352514cu  /* "LQRC" */

#define META_ENC_ATTR "enc"
#define META_ENC_B64 "base64"

enum meta_kind { MK_SR = 1, MK_VOLUME = 2, MK_NODE = 3, MK_JOURNAL = 4 };

struct meta_geom {
	uint32_t wal_start, wal_blocks, index_start, nbuckets;
	uint32_t bitmap_start, bitmap_blocks, rec_start, rec_blocks;
};

/* One index entry (decoded). */
struct meta_entry {
	uint8_t uuid[16];
	uint8_t kind;
	uint16_t nblocks;
	uint32_t first;
};

/* One block of a transaction being built, or of the WAL overlay. */
struct meta_blk {
	uint32_t no;
	unsigned char *data;
};

struct meta_area {
	int fd;
	bool writable;
	struct meta_geom g;
	uint8_t sr_uuid[16];
	struct meta_blk *ovl;   /* read-only: blocks of the valid WAL */
	size_t novl;
	struct meta_blk *dirty; /* the transaction being built */
	size_t ndirty;
	void *xml;              /* reused libxml2 parser context */
};

/* Little-endian fields. */
static inline void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

uint32_t meta_crc(const void *a, size_t alen, const void *b, size_t blen);
int meta_uuid_bin(const char *s, uint8_t out[16]);
void meta_uuid_str(const uint8_t in[16], char out[37]);

/* area.c: block I/O through the transaction and the WAL overlay. */
int area_read(struct meta_area *a, uint32_t no, unsigned char *buf);
int area_read_run(struct meta_area *a, uint32_t first, uint32_t n, unsigned char *buf);
/* A writable image of block no inside the transaction (copy on first use). */
int area_dirty(struct meta_area *a, uint32_t no, unsigned char **out);
bool blk_is_dirty(struct meta_area *a, uint32_t no);
void area_drop_dirty(struct meta_area *a);
int area_commit_tx(struct meta_area *a, uint64_t seq);
/* Superblock check, then WAL replay (writable) or overlay (read-only). */
struct meta_area *area_open(int fd, bool writable);
void area_close(struct meta_area *a);
/* meta_format with another geometry (same format, the superblock says
 * where each region is): small areas for tests and the fuzzer. */
int meta_format_geom(int fd, const char *uuid, const char *name, const char *description,
		     const struct meta_geom *g);
/* A cache for the area's uuid with no records loaded (meta_format). */
int meta_open_new(int fd, const char *uuid, struct meta_sr **out);

/* index.c: buckets and the bitmap. */
uint32_t ix_bucket_of(const struct meta_area *a, const uint8_t uuid[16]);
int ix_check_bucket(const struct meta_area *a, uint32_t bucket, const unsigned char *blk);
int ix_lookup(struct meta_area *a, const uint8_t uuid[16], struct meta_entry *out);
int ix_insert(struct meta_area *a, const struct meta_entry *e);
int ix_update(struct meta_area *a, const struct meta_entry *e);
int ix_delete(struct meta_area *a, const uint8_t uuid[16]);
void ix_entry_decode(const unsigned char *p, struct meta_entry *e);
void ix_init_bucket(unsigned char *blk, uint32_t bucket);
void bm_init_block(unsigned char *blk, uint32_t index);
int bm_alloc(struct meta_area *a, uint32_t n, uint32_t *first);
int bm_free(struct meta_area *a, uint32_t first, uint32_t n);
void ix_seal(struct meta_area *a);
/* meta_check: every block of the n (checked) entries' runs is marked in
 * the bitmap and belongs to one run only: else an allocation would
 * overwrite a live record. */
int bm_check_runs(struct meta_area *a, const struct meta_entry *e, size_t n);

/* record.c: one object <-> header + XML payload. */
union meta_obj {
	struct meta_sr *sr;
	struct meta_volume *vol;
	struct meta_node *node;
	struct meta_journal *jnl;
};
/* Payload (XML) of an object, malloc'd; EFBIG beyond the record limit. */
int rec_format(enum meta_kind kind, union meta_obj o, char **payload, size_t *len);
/* Validate a record run read from disk and fill o (allocated by caller
 * for volume/node/journal; for the SR, the fields of o.sr). */
int rec_parse(struct meta_area *a, const unsigned char *buf, size_t len, enum meta_kind kind,
	      const uint8_t uuid[16], union meta_obj o);
/* Header + payload image into a zeroed run of nblocks. */
void rec_image(unsigned char *run, enum meta_kind kind, const uint8_t uuid[16],
	       const char *payload, size_t len);
uint32_t rec_blocks_for(size_t len);
void area_xml_free(struct meta_area *a);

/* Crc of one structure recomputed over its current bytes: what meta
 * does when it writes one, exposed so the area fuzzer can damage a
 * structure and still get past its checksum.  sb_seal: a superblock;
 * wal_seal: a WAL header over its data blocks (data: count blocks in a
 * row); ix_seal_block: a bucket or bitmap block; rec_seal: a record run
 * of len bytes (payload length taken from its header, capped to len). */
void sb_seal(unsigned char *sb);
void wal_seal(unsigned char *h, const unsigned char *data);
void ix_seal_block(unsigned char *blk);
void rec_seal(unsigned char *run, size_t len);

/* cache.c */
void meta_volume_free(struct meta_volume *v);
void meta_node_free(struct meta_node *n);
void meta_journal_free(struct meta_journal *j);
int meta_obj_read(struct meta_area *a, const struct meta_entry *e, union meta_obj o,
		  struct meta_rec *rec);
int cache_load(struct meta_sr *sr, enum meta_kind kind, const char *uuid, union meta_obj *out);

#endif
