/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-area: libFuzzer target for the whole load path of the SR metadata
 * area on a damaged copy.
 *
 * Built once: a real area on a memfd (meta_format_geom with a small
 * geometry, then two commits: the second leaves its transaction in the
 * WAL), holding a node tree, three volumes with keys and a journal
 * record.  Its data extents are saved.
 *
 * Input: a flags byte (bit 0: undo the home writes of the last commit, the
 * state a crash after the WAL sync leaves; bits 1-2: which change to
 * commit: a rename, a snapshot-like add, Volume.destroy's walk, a journal
 * swap), 16 bytes of a random id, then up to MAX_PATCHES patches
 * {block selector (bit 7: reseal), offset (16 bits LE), length, bytes}.
 * The selector picks one of the blocks in use (superblocks, WAL header
 * and data, every bucket, bitmap, record blocks); reseal recomputes the
 * crc of the structure holding it with meta's own sealing functions, so
 * the checks behind the checksums are reached.
 *
 * Then: read-only open (WAL overlay) and writable open (WAL replay), each
 * followed by meta_check, both walks, finds of known and random ids and
 * refs; on the writable one a change and meta_commit.  Every call must
 * succeed or fail with a recorded error of an expected kind; after a
 * commit the area opens again, and passes meta_check if it did before.
 * Finally the saved extents are written back and every other block is
 * punched out again, so runs are independent (~300 KiB copied per run). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/meta.h"
#include "../src/meta/meta-int.h"

#define SRU "0b1f3c2e-5d6a-4e7f-8a9b-0c1d2e3f4a5b"
#define N0 "99999999-8888-4777-8666-555555555555"
#define N1 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define N2 "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define N3 "cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define N4 "dddddddd-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define N5 "eeeeeeee-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define K1 "11111111-2222-4333-8444-555555555555"
#define K2 "21111111-2222-4333-8444-555555555555"
#define K3 "31111111-2222-4333-8444-555555555555"
#define K4 "41111111-2222-4333-8444-555555555555"
#define J1 "51111111-2222-4333-8444-555555555555"

#define MAX_PATCHES 16
#define MAX_CHAIN 64
/* A small geometry (the default's WAL, 8 buckets, 1024 record blocks):
 * the same format, but a whole-index scan reads 8 blocks, not 1024. */
#define WAL_START 2u
#define IX_START (WAL_START + 1u + META_WAL_DATA)
#define NBUCKETS 8u
#define BM_START (IX_START + NBUCKETS)
#define REC_START (BM_START + 1u)
#define REC_BLOCKS 1024u
#define AREA_BYTES ((uint64_t)(REC_START + REC_BLOCKS) * META_BLOCK)

static const struct meta_geom geom = {
	.wal_start = WAL_START, .wal_blocks = 1 + META_WAL_DATA, .index_start = IX_START,
	.nbuckets = NBUCKETS, .bitmap_start = BM_START, .bitmap_blocks = 1,
	.rec_start = REC_START, .rec_blocks = REC_BLOCKS,
};

static const char *const known[] = { N0, N1, N2, N3, N4, N5, K1, K2, K3, K4, J1, SRU };
#define NKNOWN (sizeof known / sizeof known[0])

struct ext {
	uint64_t off, len;
	unsigned char *data;
};

struct run {
	uint32_t first, n;
};

static struct {
	int fd;
	struct ext *ext;      /* data extents of the built area */
	size_t next;
	uint32_t *blk;        /* blocks a patch may hit */
	size_t nblk;
	struct run *runs;     /* record runs (for resealing) */
	size_t nruns;
	struct meta_blk *before; /* last commit's targets as they were before it */
	size_t nbefore;
} A;

static void die(const char *what)
{
	fprintf(stderr, "fuzz-area: setup: %s: %s\n", what, err_last()->msg);
	abort();
}

static void rd(void *buf, size_t n, uint64_t off)
{
	if (pread(A.fd, buf, n, (off_t)off) != (ssize_t)n)
		abort();
}

static void wr(const void *buf, size_t n, uint64_t off)
{
	if (pwrite(A.fd, buf, n, (off_t)off) != (ssize_t)n)
		abort();
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		abort();
	return p;
}

/* ---- building the area ---- */

static void add_node(struct meta_sr *sr, const char *u, const char *parent)
{
	struct meta_node *n = meta_node_add(sr, u);
	char img[64];

	if (!n)
		die("node add");
	snprintf(img, sizeof img, "%s.qcow2", u);
	if (meta_set_str(&n->image, img) < 0 || meta_set_str(&n->parent, parent) < 0)
		die("node set");
	n->virtual_size = UINT64_C(1) << 30;
	n->hidden = parent == NULL;
}

static void add_vol(struct meta_sr *sr, const char *key, const char *node)
{
	struct meta_volume *v = meta_volume_add(sr, key);

	if (!v || meta_set_str(&v->uuid, key) < 0 || meta_set_str(&v->node, node) < 0 ||
	    meta_set_str(&v->name, "vol") < 0 || meta_set_str(&v->description, "<d&>") < 0 ||
	    meta_volume_set_key(v, "vdi-type", "user") < 0 ||
	    meta_volume_set_key(v, "bin", "\x01\x02") < 0)
		die("volume add");
	v->read_write = true;
}

static void first_commit(void)
{
	struct meta_sr *sr = NULL;
	struct meta_journal *j;

	if (meta_open(A.fd, true, &sr) < 0)
		die("open");
	add_node(sr, N0, NULL);
	add_node(sr, N1, N0);
	add_node(sr, N2, N0);
	add_node(sr, N3, N1);
	add_vol(sr, K1, N3);
	add_vol(sr, K2, N2);
	if (!(j = meta_journal_add(sr, J1, "destroy")) || meta_journal_set_arg(j, "key", K1) < 0 ||
	    meta_commit(sr) < 0)
		die("first commit");
	meta_free(sr);
}

/* A snapshot-like change: N2 becomes interior, N4 and K3 appear. */
static void second_commit(void)
{
	struct meta_sr *sr = NULL;
	struct meta_volume *v;

	if (meta_open(A.fd, true, &sr) < 0 || meta_volume_find(sr, K2, &v) < 0)
		die("reopen");
	add_node(sr, N4, N2);
	add_vol(sr, K3, N4);
	if (meta_set_str(&v->name, "renamed") < 0 || meta_volume_set_key(v, "k", "v") < 0 ||
	    meta_commit(sr) < 0)
		die("second commit");
	meta_free(sr);
}

/* Every data extent of the area (holes are not kept). */
static void save_extents(struct ext **out, size_t *n)
{
	off_t end = (off_t)AREA_BYTES, d = 0, h;

	*out = NULL;
	*n = 0;
	while ((d = lseek(A.fd, d, SEEK_DATA)) >= 0 && d < end) {
		if ((h = lseek(A.fd, d, SEEK_HOLE)) < 0)
			abort();
		if (!(*out = realloc(*out, (*n + 1) * sizeof **out)))
			abort();
		(*out)[*n] = (struct ext){ (uint64_t)d, (uint64_t)(h - d), xmalloc((size_t)(h - d)) };
		rd((*out)[*n].data, (size_t)(h - d), (uint64_t)d);
		(*n)++;
		d = h;
	}
}

static void free_extents(struct ext *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].data);
	free(e);
}

/* Block no as held in the extents (zeros in a hole). */
static void from_extents(const struct ext *e, size_t n, uint32_t no, unsigned char *buf)
{
	uint64_t off = (uint64_t)no * META_BLOCK;

	memset(buf, 0, META_BLOCK);
	for (size_t i = 0; i < n; i++)
		if (off >= e[i].off && off + META_BLOCK <= e[i].off + e[i].len)
			memcpy(buf, e[i].data + (off - e[i].off), META_BLOCK);
}

static void keep_before(const struct ext *e, size_t n)
{
	unsigned char h[META_BLOCK];
	uint32_t count;

	rd(h, META_BLOCK, (uint64_t)WAL_START * META_BLOCK);
	count = get32(h + 16);
	assert(count > 0 && count <= META_WAL_DATA);
	A.before = xmalloc(count * sizeof *A.before);
	for (uint32_t i = 0; i < count; i++) {
		A.before[i].no = get32(h + 24 + 4 * i);
		A.before[i].data = xmalloc(META_BLOCK);
		from_extents(e, n, A.before[i].no, A.before[i].data);
	}
	A.nbefore = count;
}

static void add_blk(uint32_t no)
{
	for (size_t i = 0; i < A.nblk; i++)
		if (A.blk[i] == no)
			return;
	if (!(A.blk = realloc(A.blk, (A.nblk + 1) * sizeof *A.blk)))
		abort();
	A.blk[A.nblk++] = no;
}

static void add_run(uint32_t first, uint32_t n)
{
	if (!(A.runs = realloc(A.runs, (A.nruns + 1) * sizeof *A.runs)))
		abort();
	A.runs[A.nruns++] = (struct run){ first, n };
	for (uint32_t i = 0; i < n; i++)
		add_blk(first + i);
}

/* Superblocks, the WAL in use, used buckets, bitmap, records. */
static void find_blocks(void)
{
	unsigned char b[META_BLOCK];

	add_blk(0);
	add_blk(1);
	for (uint32_t i = 0; i <= A.nbefore; i++)
		add_blk(WAL_START + i);
	add_blk(BM_START);
	for (uint32_t k = 0; k < NBUCKETS; k++) {
		rd(b, META_BLOCK, (uint64_t)(IX_START + k) * META_BLOCK);
		add_blk(IX_START + k);
		for (uint32_t i = 0, n = get32(b + 4); i < n && i < META_BUCKET_CAP; i++) {
			struct meta_entry e;
			ix_entry_decode(b + META_HDR + i * META_ENTRY, &e);
			add_run(e.first, e.nblocks);
		}
	}
}

static void build(void)
{
	struct ext *mid;
	size_t nmid;

	if ((A.fd = memfd_create("fuzz-area", 0)) < 0)
		abort();
	if (meta_format_geom(A.fd, SRU, "sr", "fuzz", &geom) < 0)
		die("format");
	first_commit();
	save_extents(&mid, &nmid);
	second_commit();
	keep_before(mid, nmid);
	free_extents(mid, nmid);
	save_extents(&A.ext, &A.next);
	find_blocks();
}

/* ---- patching ---- */

static bool in_wal_data(uint32_t no)
{
	return no > WAL_START && no < IX_START;
}

static bool in_ix_or_bm(uint32_t no)
{
	return no >= IX_START && no < REC_START;
}

static const struct run *run_of(uint32_t no)
{
	for (size_t i = 0; i < A.nruns; i++)
		if (no >= A.runs[i].first && no < A.runs[i].first + A.runs[i].n)
			return &A.runs[i];
	return NULL;
}

static void reseal_record(uint32_t no)
{
	const struct run *r = run_of(no);
	unsigned char *buf;

	if (!r)
		return;
	buf = xmalloc((size_t)r->n * META_BLOCK);
	rd(buf, (size_t)r->n * META_BLOCK, (uint64_t)r->first * META_BLOCK);
	rec_seal(buf, (size_t)r->n * META_BLOCK);
	wr(buf, (size_t)r->n * META_BLOCK, (uint64_t)r->first * META_BLOCK);
	free(buf);
}

/* The WAL crc, after the patched data block's own structure (bucket,
 * bitmap or a record starting there) is resealed. */
static void reseal_wal(uint32_t no)
{
	unsigned char *h = xmalloc(META_BLOCK), *d;
	uint32_t count, i = no - WAL_START - 1;

	rd(h, META_BLOCK, (uint64_t)WAL_START * META_BLOCK);
	count = get32(h + 16) > META_WAL_DATA ? META_WAL_DATA : get32(h + 16);
	d = xmalloc((size_t)count * META_BLOCK);
	rd(d, (size_t)count * META_BLOCK, (uint64_t)(WAL_START + 1) * META_BLOCK);
	if (in_wal_data(no) && i < count) {
		unsigned char *blk = d + (size_t)i * META_BLOCK;
		if (in_ix_or_bm(get32(h + 24 + 4 * i)))
			ix_seal_block(blk);
		else if (get32(blk) == META_RC_MAGIC)
			rec_seal(blk, (size_t)(count - i) * META_BLOCK);
		wr(blk, META_BLOCK, (uint64_t)no * META_BLOCK);
	}
	wal_seal(h, d);
	wr(h, META_BLOCK, (uint64_t)WAL_START * META_BLOCK);
	free(h);
	free(d);
}

static void reseal(uint32_t no)
{
	unsigned char b[META_BLOCK];

	if (no < WAL_START) {
		rd(b, META_BLOCK, (uint64_t)no * META_BLOCK);
		sb_seal(b);
		wr(b, META_BLOCK, (uint64_t)no * META_BLOCK);
	} else if (no < IX_START) {
		reseal_wal(no);
	} else if (no < REC_START) {
		rd(b, META_BLOCK, (uint64_t)no * META_BLOCK);
		ix_seal_block(b);
		wr(b, META_BLOCK, (uint64_t)no * META_BLOCK);
	} else {
		reseal_record(no);
	}
}

/* One patch from the input; the number of bytes it used, 0 at the end. */
static size_t patch(const uint8_t *p, size_t n)
{
	uint32_t no, off, len;
	unsigned char b[META_BLOCK];

	if (n < 4)
		return 0;
	no = A.blk[(p[0] & 0x7f) % A.nblk];
	off = (uint32_t)(p[1] | p[2] << 8) % META_BLOCK;
	len = p[3];
	if (len > n - 4)
		len = (uint32_t)(n - 4);
	if (len > META_BLOCK - off)
		len = META_BLOCK - off;
	rd(b, META_BLOCK, (uint64_t)no * META_BLOCK);
	memcpy(b + off, p + 4, len);
	wr(b, META_BLOCK, (uint64_t)no * META_BLOCK);
	if (p[0] & 0x80)
		reseal(no);
	return 4 + len;
}

/* The state a crash after the WAL sync leaves: the log, not its homes. */
static void unapply(void)
{
	for (size_t i = 0; i < A.nbefore; i++)
		wr(A.before[i].data, META_BLOCK, (uint64_t)A.before[i].no * META_BLOCK);
}

/* Back to the built area: holes punched between the saved extents (and
 * the file cut back if a write grew it), the extents written back. */
static void restore(void)
{
	uint64_t at = 0;

	if (ftruncate(A.fd, (off_t)AREA_BYTES) < 0)
		abort();
	for (size_t i = 0; i <= A.next; i++) {
		uint64_t to = i < A.next ? A.ext[i].off : AREA_BYTES;
		if (to > at && fallocate(A.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)at,
					 (off_t)(to - at)) < 0)
			abort();
		if (i < A.next) {
			wr(A.ext[i].data, A.ext[i].len, A.ext[i].off);
			at = A.ext[i].off + A.ext[i].len;
		}
	}
}

/* ---- the load path ---- */

/* A failure must be recorded, and of a kind a damaged area explains. */
static int clean(int rc)
{
	int e;

	if (rc == 0)
		return 0;
	assert(rc == -1);
	e = err_errnum();
	assert(err_last()->msg[0]);
	assert(e == EUCLEAN || e == ENOENT || e == EINVAL || e == ENOSPC || e == E2BIG ||
	       e == EBUSY || e == EFBIG || e == EEXIST || e == EROFS);
	return -1;
}

/* Up the parents as the datapath does, nearest first, bounded. */
static void walk_chain(struct meta_sr *sr, const char *leaf)
{
	struct meta_node *n;
	int depth = 0;

	if (clean(meta_node_find(sr, leaf, &n)) < 0)
		return;
	while (n->parent && depth++ < MAX_CHAIN)
		if (clean(meta_node_find(sr, n->parent, &n)) < 0)
			return;
}

static int on_volume(struct meta_sr *sr, struct meta_volume *v, struct meta_node *leaf, void *arg)
{
	assert(v->key && v->node);
	assert(!leaf || !strcmp(leaf->uuid, v->node));
	walk_chain(sr, v->node);
	(*(int *)arg)++;
	return 0;
}

static int on_node(struct meta_sr *sr, struct meta_node *n, void *arg)
{
	uint64_t refs;
	bool k;

	assert(n->uuid && n->image);
	clean(meta_node_refs(sr, n->uuid, &refs));
	clean(meta_image_known(sr, n->image, &k));
	(*(int *)arg)++;
	return 0;
}

static void finds(struct meta_sr *sr, const char *id)
{
	struct meta_volume *v;
	struct meta_node *n;
	struct meta_journal *j;
	uint64_t refs;

	clean(meta_volume_find(sr, id, &v));
	clean(meta_node_find(sr, id, &n));
	clean(meta_journal_find(sr, id, &j));
	clean(meta_node_refs(sr, id, &refs));
}

/* Everything a reader does; true if meta_check passed. */
static bool explore(struct meta_sr *sr, const char *rnd)
{
	bool ok = clean(meta_check(sr)) == 0;
	int nv = 0, nn = 0;

	clean(meta_volume_each(sr, on_volume, &nv));
	clean(meta_node_each(sr, on_node, &nn));
	for (size_t i = 0; i < NKNOWN; i++)
		finds(sr, known[i]);
	finds(sr, rnd);
	return ok;
}

/* Volume.destroy's walk: the volume, then every node left unreferenced
 * going up.  Deliberately unbounded, as in ops: it must end by itself. */
static int destroy(struct meta_sr *sr, const char *key)
{
	struct meta_volume *v;
	const char *cur;
	uint64_t refs;

	if (meta_volume_find(sr, key, &v) < 0 || meta_volume_remove(sr, key) < 0)
		return -1;
	for (cur = v->node; cur;) {
		struct meta_node *nd;
		if (meta_node_refs(sr, cur, &refs) < 0 || meta_node_find(sr, cur, &nd) < 0)
			return -1;
		if (refs)
			break;
		if (meta_node_remove(sr, cur) < 0)
			return -1;
		cur = nd->parent;
	}
	return 0;
}

static int snapshot(struct meta_sr *sr)
{
	struct meta_node *n = meta_node_add(sr, N5);
	struct meta_volume *v = n ? meta_volume_add(sr, K4) : NULL;

	if (!v)
		return -1;
	if (meta_set_str(&n->parent, N3) < 0 || meta_set_str(&n->image, N5 ".qcow2") < 0 ||
	    meta_set_str(&v->uuid, K4) < 0 || meta_set_str(&v->node, N5) < 0)
		return -1;
	return 0;
}

static int change(struct meta_sr *sr, unsigned op, const char *rnd)
{
	struct meta_volume *v;

	switch (op) {
	case 0:
		if (meta_volume_find(sr, K1, &v) < 0)
			return -1;
		return meta_set_str(&v->name, "new name") < 0 ? -1 : meta_volume_set_key(v, "x", "y");
	case 1:
		return snapshot(sr);
	case 2:
		return destroy(sr, K2);
	default:
		if (meta_journal_remove(sr, J1) < 0)
			return -1;
		return meta_journal_add(sr, rnd, "op") ? 0 : -1;
	}
}

static void read_only(const char *rnd)
{
	struct meta_sr *sr = NULL;

	if (clean(meta_open(A.fd, false, &sr)) < 0)
		return;
	explore(sr, rnd);
	assert(meta_commit(sr) == -1 && err_errnum() == EROFS);
	meta_free(sr);
}

static void writable(unsigned op, const char *rnd)
{
	struct meta_sr *sr = NULL;
	bool checked;

	if (clean(meta_open(A.fd, true, &sr)) < 0)
		return;
	checked = explore(sr, rnd);
	if (clean(change(sr, op, rnd)) == 0 && clean(meta_commit(sr)) == 0) {
		meta_free(sr);
		sr = NULL;
		/* What a commit wrote can be read back, and breaks no check. */
		assert(meta_open(A.fd, false, &sr) == 0);
		assert(!checked || meta_check(sr) == 0);
	}
	meta_free(sr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t u[16] = { 0 };
	char rnd[37];
	size_t used = 17;

	if (!A.blk)
		build();
	if (size < 17)
		return 0;
	memcpy(u, data + 1, 16);
	meta_uuid_str(u, rnd);
	if (data[0] & 1)
		unapply();
	for (int i = 0; i < MAX_PATCHES && used < size; i++) {
		size_t n = patch(data + used, size - used);
		if (!n)
			break;
		used += n;
	}
	read_only(rnd);
	writable((data[0] >> 1) & 3, rnd);
	restore();
	return 0;
}
