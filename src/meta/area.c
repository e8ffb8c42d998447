/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta/area: block I/O of the metadata area, the superblocks and the
 * write-ahead log.
 *
 * A transaction is the new image of every block it changes.  Commit
 * writes them to the WAL with a header {magic, seq, count, targets, crc
 * over header and data}, syncs, writes each block home and syncs again.
 * A valid WAL is replayed by the next writer (replay is idempotent) and
 * overlaid by readers that cannot write; a torn WAL (bad crc) is ignored
 * because the transaction before it was applied home before it started.
 * Once the home blocks are synced the header's magic is changed to
 * META_WAL_DONE (not synced: if that write is lost, the next writer
 * replays, which is harmless), so that a writer's open neither rewrites
 * the last transaction nor waits for another sync. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "lq/uuid.h"
#include "meta-int.h"

/* Superblock fields (offsets). */
enum { SB_MAGIC = 0, SB_VERSION = 8, SB_BLOCK = 12, SB_UUID = 16, SB_GEOM = 32,
       SB_CRC = 64, SB_LEN = 68 };
/* WAL header fields. */
enum { WL_MAGIC = 0, WL_SEQ = 8, WL_COUNT = 16, WL_CRC = 20, WL_TARGETS = 24 };

static const struct meta_geom default_geom = {
	.wal_start = 2, .wal_blocks = 1 + META_WAL_DATA,
	.index_start = 2 + 1 + META_WAL_DATA, .nbuckets = META_NBUCKETS,
	.bitmap_start = 2 + 1 + META_WAL_DATA + META_NBUCKETS, .bitmap_blocks = META_BITMAP_BLOCKS,
	.rec_start = 2 + 1 + META_WAL_DATA + META_NBUCKETS + META_BITMAP_BLOCKS,
	.rec_blocks = META_BITMAP_BLOCKS * META_BITS_PER_BLOCK,
};

const uint64_t META_AREA_BYTES = (uint64_t)(2 + 1 + META_WAL_DATA + META_NBUCKETS +
					    META_BITMAP_BLOCKS +
					    META_BITMAP_BLOCKS * META_BITS_PER_BLOCK) * META_BLOCK;

uint32_t meta_crc(const void *a, size_t alen, const void *b, size_t blen)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, a, (uInt)alen);
	if (b)
		c = crc32(c, b, (uInt)blen);
	return (uint32_t)c;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* -1 without an error record: a key that is not a uuid is "not found". */
int meta_uuid_bin(const char *s, uint8_t out[16])
{
	size_t j = 0;

	if (!s || !uuid_is_valid(s))
		return -1;
	for (size_t i = 0; s[i] && j < 16; i++) {
		if (s[i] == '-')
			continue;
		out[j++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
		i++;
	}
	return j == 16 ? 0 : -1;
}

void meta_uuid_str(const uint8_t in[16], char out[37])
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[in[i] >> 4];
		out[o++] = hx[in[i] & 15];
	}
	out[o] = '\0';
}

static int pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys("metadata area: read at %llu: %m", (unsigned long long)off);
		if (r == 0)
			return err_corrupt("metadata area: short (end at %llu)",
					   (unsigned long long)(off + done));
		done += (size_t)r;
	}
	return 0;
}

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_sys("metadata area: write at %llu: %m", (unsigned long long)off);
		done += (size_t)r;
	}
	return 0;
}

static int sync_fd(int fd)
{
	return fdatasync(fd) < 0 ? err_sys("metadata area: fdatasync: %m") : 0;
}

static struct meta_blk *blk_find(struct meta_blk *b, size_t n, uint32_t no)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].no == no)
			return &b[i];
	return NULL;
}

/* Pending transaction first, then the WAL overlay, then the disk. */
int area_read(struct meta_area *a, uint32_t no, unsigned char *buf)
{
	struct meta_blk *b = blk_find(a->dirty, a->ndirty, no);

	if (!b)
		b = blk_find(a->ovl, a->novl, no);
	if (b) {
		memcpy(buf, b->data, META_BLOCK);
		return 0;
	}
	return pread_full(a->fd, buf, META_BLOCK, (uint64_t)no * META_BLOCK);
}

int area_read_run(struct meta_area *a, uint32_t first, uint32_t n, unsigned char *buf)
{
	if (pread_full(a->fd, buf, (size_t)n * META_BLOCK, (uint64_t)first * META_BLOCK) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		struct meta_blk *b = blk_find(a->dirty, a->ndirty, first + i);
		if (!b)
			b = blk_find(a->ovl, a->novl, first + i);
		if (b)
			memcpy(buf + (size_t)i * META_BLOCK, b->data, META_BLOCK);
	}
	return 0;
}

bool blk_is_dirty(struct meta_area *a, uint32_t no)
{
	return blk_find(a->dirty, a->ndirty, no) != NULL;
}

int area_dirty(struct meta_area *a, uint32_t no, unsigned char **out)
{
	struct meta_blk *b = blk_find(a->dirty, a->ndirty, no), *grown;
	unsigned char *data;

	if (b) {
		*out = b->data;
		return 0;
	}
	if (!(data = malloc(META_BLOCK)) ||
	    !(grown = realloc(a->dirty, (a->ndirty + 1) * sizeof *grown))) {
		free(data);
		return err_set(ENOMEM, "out of memory");
	}
	a->dirty = grown;
	if (area_read(a, no, data) < 0) {
		free(data);
		return -1;
	}
	grown[a->ndirty++] = (struct meta_blk){ no, data };
	*out = data;
	return 0;
}

static void blks_free(struct meta_blk **b, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*b)[i].data);
	free(*b);
	*b = NULL;
	*n = 0;
}

void area_drop_dirty(struct meta_area *a)
{
	blks_free(&a->dirty, &a->ndirty);
}

static uint64_t blk_off(uint32_t no)
{
	return (uint64_t)no * META_BLOCK;
}

/* Header of a WAL of the given blocks (crc over header and data). */
static void wal_header(unsigned char *h, uint64_t seq, const struct meta_blk *b, size_t n)
{
	uLong c;

	memset(h, 0, META_BLOCK);
	memcpy(h + WL_MAGIC, META_WAL_MAGIC, 8);
	put64(h + WL_SEQ, seq);
	put32(h + WL_COUNT, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		put32(h + WL_TARGETS + 4 * i, b[i].no);
	c = crc32(0L, h, META_BLOCK);
	for (size_t i = 0; i < n; i++)
		c = crc32(c, b[i].data, META_BLOCK);
	put32(h + WL_CRC, (uint32_t)c);
}

void wal_seal(unsigned char *h, const unsigned char *data)
{
	uint32_t count = get32(h + WL_COUNT);
	uLong c;

	if (count > META_WAL_DATA)
		count = META_WAL_DATA;
	put32(h + WL_CRC, 0);
	c = crc32(0L, h, META_BLOCK);
	c = crc32(c, data, (uInt)count * META_BLOCK);
	put32(h + WL_CRC, (uint32_t)c);
}

/* Crash points only in a commit: a replay at open is not one. */
static int write_homes(struct meta_area *a, const struct meta_blk *b, size_t n, bool points)
{
	for (size_t i = 0; i < n; i++) {
		if (pwrite_full(a->fd, b[i].data, META_BLOCK, blk_off(b[i].no)) < 0)
			return -1;
		if (points)
			fault_point("meta-commit.home-written");
	}
	return 0;
}

/* Mark the WAL of a transaction durable at home: only the magic changes
 * (8 bytes, inside one sector).  A failure is not one of the commit or
 * replay, which is complete: the WAL stays valid and the next writer
 * replays it again. */
static void wal_retire(struct meta_area *a)
{
	ssize_t r = pwrite(a->fd, META_WAL_DONE, 8, (off_t)(blk_off(a->g.wal_start) + WL_MAGIC));

	(void)r;
}

int area_commit_tx(struct meta_area *a, uint64_t seq)
{
	unsigned char *h;
	int rc = -1;

	if (a->ndirty > a->g.wal_blocks - 1)
		return err_set(E2BIG, "metadata transaction of %zu blocks exceeds the log (%u)",
			       a->ndirty, a->g.wal_blocks - 1);
	if (!(h = malloc(META_BLOCK)))
		return err_set(ENOMEM, "out of memory");
	wal_header(h, seq, a->dirty, a->ndirty);
	for (size_t i = 0; i < a->ndirty; i++)
		if (pwrite_full(a->fd, a->dirty[i].data, META_BLOCK, blk_off(a->g.wal_start + 1 + (uint32_t)i)) < 0)
			goto out;
	/* Killed here the old header no longer matches the data: a torn log,
	 * ignored, which is safe because its transaction is already home. */
	fault_point("meta-commit.wal-data-written");
	if (pwrite_full(a->fd, h, META_BLOCK, blk_off(a->g.wal_start)) < 0)
		goto out;
	fault_point("meta-commit.wal-written");
	if (sync_fd(a->fd) < 0)
		goto out;
	fault_point("meta-commit.wal-synced");
	if (write_homes(a, a->dirty, a->ndirty, true) < 0 || sync_fd(a->fd) < 0)
		goto out;
	fault_point("meta-commit.applied");
	wal_retire(a);
	rc = 0;
out:
	free(h);
	return rc;
}

/* The valid WAL's blocks into a->ovl (nothing if torn or empty). */
static int wal_load(struct meta_area *a)
{
	unsigned char *h = malloc(META_BLOCK);
	uint32_t count, want;
	uLong c;
	int rc = -1;

	if (!h)
		return err_set(ENOMEM, "out of memory");
	if (pread_full(a->fd, h, META_BLOCK, blk_off(a->g.wal_start)) < 0)
		goto out;
	count = get32(h + WL_COUNT);
	rc = 0;
	if (memcmp(h, META_WAL_MAGIC, 8) || !count || count > a->g.wal_blocks - 1)
		goto out;
	want = get32(h + WL_CRC);
	put32(h + WL_CRC, 0);
	c = crc32(0L, h, META_BLOCK);
	if (!(a->ovl = calloc(count, sizeof *a->ovl))) {
		rc = err_set(ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint32_t no = get32(h + WL_TARGETS + 4 * i);
		a->ovl[a->novl].no = no;
		if (!(a->ovl[a->novl].data = malloc(META_BLOCK))) {
			rc = err_set(ENOMEM, "out of memory");
			goto out;
		}
		a->novl++;
		if (pread_full(a->fd, a->ovl[i].data, META_BLOCK, blk_off(a->g.wal_start + 1 + i)) < 0) {
			rc = -1;
			goto out;
		}
		c = crc32(c, a->ovl[i].data, META_BLOCK);
		/* A target outside the area, or named twice (a reader would see
		 * the first copy, a replay leave the last): never ours. */
		if (no < a->g.index_start || no >= a->g.rec_start + a->g.rec_blocks ||
		    blk_find(a->ovl, i, no)) {
			c = ~(uLong)want;
			break;
		}
	}
	if ((uint32_t)c != want)
		blks_free(&a->ovl, &a->novl); /* torn: ignored */
out:
	if (rc < 0)
		blks_free(&a->ovl, &a->novl);
	free(h);
	return rc;
}

/* Writable open: apply a valid WAL home (idempotent) and make it durable
 * before any new transaction may overwrite the log, then retire it.  No
 * valid WAL (retired, empty or torn) means the home blocks are durable
 * already: nothing to write or sync. */
static int wal_replay(struct meta_area *a)
{
	int rc = 0;

	if (wal_load(a) < 0)
		return -1;
	if (!a->novl)
		return 0;
	rc = write_homes(a, a->ovl, a->novl, false);
	if (rc == 0)
		rc = sync_fd(a->fd);
	if (rc == 0)
		wal_retire(a);
	blks_free(&a->ovl, &a->novl);
	return rc;
}

static void geom_put(unsigned char *p, const struct meta_geom *g)
{
	const uint32_t v[8] = { g->wal_start, g->wal_blocks, g->index_start, g->nbuckets,
				g->bitmap_start, g->bitmap_blocks, g->rec_start, g->rec_blocks };

	for (int i = 0; i < 8; i++)
		put32(p + 4 * i, v[i]);
}

static void geom_get(const unsigned char *p, struct meta_geom *g)
{
	uint32_t *v[8] = { &g->wal_start, &g->wal_blocks, &g->index_start, &g->nbuckets,
			   &g->bitmap_start, &g->bitmap_blocks, &g->rec_start, &g->rec_blocks };

	for (int i = 0; i < 8; i++)
		*v[i] = get32(p + 4 * i);
}

/* A whole-index read (SR.ls, meta_check) is one buffer of the index. */
#define META_NBUCKETS_MAX (1u << 16)

/* Regions in order, without overlap, sized within what the code allows;
 * every bitmap block covers some record blocks (bm_alloc counts on it). */
static bool geom_ok(const struct meta_geom *g)
{
	return g->wal_start == 2 && g->wal_blocks >= 2 && g->wal_blocks <= 1 + META_WAL_DATA &&
	       g->index_start == g->wal_start + g->wal_blocks && g->nbuckets > 0 &&
	       g->nbuckets <= META_NBUCKETS_MAX && g->bitmap_start == g->index_start + g->nbuckets &&
	       g->bitmap_blocks > 0 && g->bitmap_blocks <= 64 &&
	       g->rec_start == g->bitmap_start + g->bitmap_blocks &&
	       (uint64_t)g->rec_blocks > (uint64_t)(g->bitmap_blocks - 1) * META_BITS_PER_BLOCK &&
	       (uint64_t)g->rec_blocks <= (uint64_t)g->bitmap_blocks * META_BITS_PER_BLOCK;
}

void sb_seal(unsigned char *sb)
{
	put32(sb + SB_CRC, meta_crc(sb, SB_CRC, NULL, 0));
}

static void sb_build(unsigned char *sb, const uint8_t uuid[16], const struct meta_geom *g)
{
	memset(sb, 0, META_BLOCK);
	memcpy(sb + SB_MAGIC, META_SB_MAGIC, 8);
	put32(sb + SB_VERSION, META_VERSION);
	put32(sb + SB_BLOCK, META_BLOCK);
	memcpy(sb + SB_UUID, uuid, 16);
	geom_put(sb + SB_GEOM, g);
	sb_seal(sb);
}

static bool sb_valid(const unsigned char *sb, struct meta_area *a)
{
	if (memcmp(sb + SB_MAGIC, META_SB_MAGIC, 8) || get32(sb + SB_VERSION) != META_VERSION ||
	    get32(sb + SB_BLOCK) != META_BLOCK || get32(sb + SB_CRC) != meta_crc(sb, SB_CRC, NULL, 0))
		return false;
	geom_get(sb + SB_GEOM, &a->g);
	memcpy(a->sr_uuid, sb + SB_UUID, 16);
	return geom_ok(&a->g);
}

/* Either valid copy will do: both are written once, at format. */
static int sb_read(struct meta_area *a)
{
	unsigned char *sb = malloc(META_BLOCK);
	int rc = -1;

	if (!sb)
		return err_set(ENOMEM, "out of memory");
	for (uint32_t i = 0; i < 2 && rc < 0; i++) {
		if (pread_full(a->fd, sb, META_BLOCK, blk_off(i)) < 0) {
			free(sb);
			return -1;
		}
		if (sb_valid(sb, a))
			rc = 0;
	}
	free(sb);
	return rc == 0 ? 0 : err_corrupt("metadata area: no valid superblock");
}

struct meta_area *area_open(int fd, bool writable)
{
	struct meta_area *a = calloc(1, sizeof *a);

	if (!a) {
		err_set(ENOMEM, "out of memory");
		return NULL;
	}
	a->fd = fd;
	a->writable = writable;
	if (sb_read(a) < 0 || (writable ? wal_replay(a) : wal_load(a)) < 0) {
		area_close(a);
		return NULL;
	}
	return a;
}

void area_close(struct meta_area *a)
{
	if (!a)
		return;
	blks_free(&a->ovl, &a->novl);
	blks_free(&a->dirty, &a->ndirty);
	area_xml_free(a);
	free(a);
}

/* A file is sized (its holes read as zeros); a device (an LV) must be
 * large enough already. */
static int size_area(int fd, uint64_t bytes)
{
	struct stat st;
	uint64_t dev = 0;

	if (fstat(fd, &st) < 0)
		return err_sys("metadata area: fstat: %m");
	if (!S_ISBLK(st.st_mode))
		return ftruncate(fd, (off_t)bytes) < 0 ? err_sys("metadata area: size it: %m") : 0;
	if (ioctl(fd, BLKGETSIZE64, &dev) < 0)
		return err_sys("metadata area: BLKGETSIZE64: %m");
	if (dev < bytes)
		return err_set(ENOSPC, "metadata area: the device holds %llu bytes, not %llu",
			       (unsigned long long)dev, (unsigned long long)bytes);
	return 0;
}

/* Write the fixed regions of an empty area directly (nothing to protect
 * yet: the store publishes the area only after this returns).  A device
 * may hold an older area's bytes (LVM does not zero new LVs): the WAL
 * header is written as zeros so that no old transaction is replayed;
 * old records are unreachable without their index entries. */
static int format_regions(int fd, const uint8_t uuid[16], const struct meta_geom *g)
{
	unsigned char *b = calloc(1, META_BLOCK);
	int rc = -1;

	if (!b)
		return err_set(ENOMEM, "out of memory");
	if (size_area(fd, (uint64_t)(g->rec_start + g->rec_blocks) * META_BLOCK) < 0 ||
	    pwrite_full(fd, b, META_BLOCK, blk_off(g->wal_start)) < 0)
		goto out;
	sb_build(b, uuid, g);
	if (pwrite_full(fd, b, META_BLOCK, 0) < 0 || pwrite_full(fd, b, META_BLOCK, META_BLOCK) < 0)
		goto out;
	for (uint32_t i = 0; i < g->nbuckets; i++) {
		ix_init_bucket(b, i);
		if (pwrite_full(fd, b, META_BLOCK, blk_off(g->index_start + i)) < 0)
			goto out;
	}
	for (uint32_t i = 0; i < g->bitmap_blocks; i++) {
		bm_init_block(b, i);
		if (pwrite_full(fd, b, META_BLOCK, blk_off(g->bitmap_start + i)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(b);
	return rc;
}

int meta_format(int fd, const char *uuid, const char *name, const char *description)
{
	return meta_format_geom(fd, uuid, name, description, &default_geom);
}

int meta_format_geom(int fd, const char *uuid, const char *name, const char *description,
		     const struct meta_geom *g)
{
	uint8_t u[16];
	struct meta_sr *sr = NULL;
	int rc = -1;

	if (meta_uuid_bin(uuid, u) < 0)
		return err_set(EINVAL, "SR uuid '%.64s' is not a uuid", uuid);
	if (!geom_ok(g))
		return err_set(EINVAL, "metadata area: geometry out of range");
	if (format_regions(fd, u, g) < 0 || sync_fd(fd) < 0 ||
	    meta_open_new(fd, uuid, &sr) < 0)
		return -1;
	if (meta_set_str(&sr->name, name ? name : "") == 0 &&
	    meta_set_str(&sr->description, description ? description : "") == 0)
		rc = meta_commit(sr);
	meta_free(sr);
	return rc;
}
