/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of meta: round trips through the area, refs maintenance,
 * the WAL (replay, overlay, torn), corruption in every region, limits
 * (bucket full, record and transaction too large) and hostile XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/meta.h"
#include "lq/uuid.h"
#include "../src/meta/meta-int.h"

#define UNUSED __attribute__((unused))
#define SRU "0b1f3c2e-5d6a-4e7f-8a9b-0c1d2e3f4a5b"
#define K1 "11111111-2222-4333-8444-555555555555"
#define K2 "21111111-2222-4333-8444-555555555555"
#define N1 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define N0 "99999999-8888-4777-8666-555555555555"
#define N2 "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static const char *hostile[] = {
	"", " ", "  leading and trailing  ", "plain", "quotes \" and ' and `",
	"<tag attr=\"x\">&amp;</tag> ]]> <!-- c --> <?pi?> <!DOCTYPE x>", "new\nline\ttab",
	"cr\r\nlf", "\x01\x02\x1f\x7f control", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	"bad utf8 \xff\xfe \xc3", "surrogate \xed\xa0\x80", "\xef\xbf\xbe nonchar",
	"$(rm -rf /); `id`; | & ;", "%s%n%x", "\\ backslash \\\\", "&lol9;",
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

static int new_area(void)
{
	char path[] = "/tmp/lq-meta-test-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(meta_format(fd, SRU, "sr name", "sr desc"), 0);
	return fd;
}

static struct meta_sr *open_rw(int fd)
{
	struct meta_sr *sr = NULL;

	assert_int_equal(meta_open(fd, true, &sr), 0);
	return sr;
}

static void add_node(struct meta_sr *sr, const char *u, const char *parent)
{
	struct meta_node *n = meta_node_add(sr, u);
	char img[64];

	assert_non_null(n);
	snprintf(img, sizeof img, "%s.qcow2", u);
	assert_int_equal(meta_set_str(&n->image, img), 0);
	assert_int_equal(meta_set_str(&n->parent, parent), 0);
	n->virtual_size = META_VSIZE_MAX;
	n->hidden = parent == NULL;
}

static void add_vol(struct meta_sr *sr, const char *key, const char *node)
{
	struct meta_volume *v = meta_volume_add(sr, key);

	assert_non_null(v);
	assert_int_equal(meta_set_str(&v->uuid, key), 0);
	assert_int_equal(meta_set_str(&v->node, node), 0);
	assert_int_equal(meta_set_str(&v->name, "vol"), 0);
	assert_int_equal(meta_set_str(&v->description, hostile[5]), 0);
	v->read_write = true;
}

/* SR: N0 <- N1 (leaf of K1), N0 <- N2 (leaf of K2). */
static int sample(void)
{
	int fd = new_area();
	struct meta_sr *sr = open_rw(fd);
	struct meta_volume *v;

	add_node(sr, N0, NULL);
	add_node(sr, N1, N0);
	add_node(sr, N2, N0);
	add_vol(sr, K1, N1);
	add_vol(sr, K2, N2);
	assert_int_equal(meta_volume_find(sr, K1, &v), 0);
	for (size_t i = 0; i < NHOSTILE; i++) {
		char k[32];
		snprintf(k, sizeof k, "k%zu", i);
		assert_int_equal(meta_volume_set_key(v, k, hostile[i]), 0);
		assert_int_equal(meta_volume_set_key(v, hostile[i][0] ? hostile[i] : "empty", k), 0);
	}
	assert_int_equal(meta_commit(sr), 0);
	meta_free(sr);
	return fd;
}

static uint64_t refs(struct meta_sr *sr, const char *u)
{
	uint64_t n = 99;

	assert_int_equal(meta_node_refs(sr, u, &n), 0);
	return n;
}

static void check_sample(struct meta_sr *sr)
{
	struct meta_volume *v;
	struct meta_node *n;

	assert_string_equal(sr->uuid, SRU);
	assert_string_equal(sr->name, "sr name");
	assert_int_equal(sr->nvolumes, 2);
	assert_int_equal(sr->nnodes, 3);
	assert_int_equal(meta_volume_find(sr, K1, &v), 0);
	assert_string_equal(v->node, N1);
	assert_string_equal(v->description, hostile[5]);
	assert_true(v->read_write);
	assert_false(v->sharable);
	for (size_t i = 0; i < NHOSTILE; i++) {
		char k[32];
		snprintf(k, sizeof k, "k%zu", i);
		assert_string_equal(meta_volume_get_key(v, k), hostile[i]);
		assert_string_equal(meta_volume_get_key(v, hostile[i][0] ? hostile[i] : "empty"), k);
	}
	assert_int_equal(meta_node_find(sr, N1, &n), 0);
	assert_string_equal(n->parent, N0);
	assert_int_equal(n->virtual_size, META_VSIZE_MAX);
	assert_string_equal(n->image, N1 ".qcow2");
	assert_int_equal(refs(sr, N0), 2);
	assert_int_equal(refs(sr, N1), 1);
	assert_int_equal(meta_check(sr), 0);
}

static void test_round_trip(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr = NULL;
	struct meta_volume *v;

	assert_int_equal(meta_open(fd, false, &sr), 0);
	check_sample(sr);
	assert_int_equal(sr->generation, 2);
	assert_int_equal(meta_commit(sr), -1); /* read-only */
	assert_int_equal(meta_volume_find(sr, "not-a-uuid", &v), -1);
	assert_int_equal(err_errnum(), ENOENT);
	assert_int_equal(meta_volume_find(sr, N0, &v), -1); /* a node, not a volume */
	assert_int_equal(err_errnum(), ENOENT);
	meta_free(sr);
	close(fd);
}

/* Journal arguments survive a commit and are found by key; a second
 * set of a key replaces its value. */
static void test_journal_args(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr = open_rw(fd);
	struct meta_journal *j;
	char id[UUID_STR_LEN];

	assert_int_equal(uuid_generate(id), 0);
	assert_non_null(j = meta_journal_add(sr, id, "op"));
	assert_int_equal(meta_journal_set_arg(j, "node", N0), 0);
	assert_int_equal(meta_journal_set_arg(j, "size", "1"), 0);
	assert_int_equal(meta_journal_set_arg(j, "size", "2"), 0);
	assert_int_equal(meta_commit(sr), 0);
	meta_free(sr);
	sr = open_rw(fd);
	assert_int_equal(meta_journal_find(sr, id, &j), 0);
	assert_string_equal(meta_journal_get_arg(j, "node"), N0);
	assert_string_equal(meta_journal_get_arg(j, "size"), "2");
	assert_null(meta_journal_get_arg(j, "image"));
	assert_int_equal(j->nargs, 2);
	meta_free(sr);
	close(fd);
}

/* Destroy-style walk: refs drop as links go, pending changes included. */
static void test_refs(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr = open_rw(fd);
	struct meta_volume *v;
	bool known;

	assert_int_equal(meta_volume_remove(sr, K1), 0);
	assert_int_equal(refs(sr, N1), 0);
	assert_int_equal(meta_node_remove(sr, N1), 0);
	assert_int_equal(refs(sr, N0), 1);
	assert_int_equal(meta_commit(sr), 0);
	meta_free(sr);
	sr = open_rw(fd);
	assert_int_equal(sr->nvolumes, 1);
	assert_int_equal(sr->nnodes, 2);
	assert_int_equal(meta_volume_find(sr, K1, &v), -1);
	assert_int_equal(refs(sr, N0), 1);
	assert_int_equal(meta_image_known(sr, N1 ".qcow2", &known), 0);
	assert_false(known);
	assert_int_equal(meta_image_known(sr, N2 ".qcow2", &known), 0);
	assert_true(known);
	assert_int_equal(meta_check(sr), 0);
	/* A referenced node cannot go. */
	assert_int_equal(meta_node_remove(sr, N0), 0);
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), EBUSY);
	meta_free(sr);
	close(fd);
}

/* Image names of either store's form are found by the uuid they hold. */
static void test_image_known_forms(void **s UNUSED)
{
	int fd = new_area();
	struct meta_sr *sr = open_rw(fd);
	struct meta_node *n = meta_node_add(sr, N1);
	bool known;

	assert_non_null(n);
	assert_int_equal(meta_set_str(&n->image, "n-" N1), 0);
	assert_int_equal(meta_image_known(sr, "n-" N1, &known), 0);
	assert_true(known);
	assert_int_equal(meta_image_known(sr, N1 ".qcow2", &known), 0);
	assert_false(known);
	assert_int_equal(meta_image_known(sr, "n-" N2, &known), 0);
	assert_false(known);
	assert_int_equal(meta_image_known(sr, "n-", &known), 0);
	assert_false(known);
	meta_free(sr);
	close(fd);
}

static int count_fn(struct meta_sr *sr UNUSED, struct meta_volume *v, struct meta_node *leaf,
		    void *arg)
{
	assert_non_null(v->node);
	assert_non_null(leaf);
	assert_string_equal(leaf->uuid, v->node);
	(*(int *)arg)++;
	return 0;
}

static void test_each_and_set(void **s UNUSED)
{
	int fd = sample(), n = 0;
	struct meta_sr *sr = open_rw(fd);
	struct meta_volume *v;

	assert_int_equal(meta_volume_each(sr, count_fn, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(meta_volume_find(sr, K2, &v), 0);
	assert_int_equal(meta_set_str(&v->name, "renamed"), 0);
	meta_volume_unset_key(v, "absent");
	assert_int_equal(meta_commit(sr), 0);
	meta_free(sr);
	sr = open_rw(fd);
	assert_int_equal(meta_volume_find(sr, K2, &v), 0);
	assert_string_equal(v->name, "renamed");
	assert_int_equal(sr->generation, 3);
	meta_free(sr);
	close(fd);
}

/* A key is found only as it was given out (lowercase). */
static void test_key_spelling(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr = open_rw(fd);
	struct meta_volume *v;

	add_vol(sr, "abcdef01-2222-4333-8444-555555555555", N2);
	assert_int_equal(meta_commit(sr), 0);
	assert_int_equal(meta_volume_find(sr, "abcdef01-2222-4333-8444-555555555555", &v), 0);
	assert_int_equal(meta_volume_find(sr, "ABCDEF01-2222-4333-8444-555555555555", &v), -1);
	assert_int_equal(err_errnum(), ENOENT);
	assert_int_equal(meta_volume_find(sr, "abcdef0122224333844455555555555", &v), -1);
	assert_int_equal(err_errnum(), ENOENT);
	meta_free(sr);
	close(fd);
}

static unsigned char *snapshot(int fd)
{
	unsigned char *b = malloc(META_AREA_BYTES);

	assert_non_null(b);
	assert_int_equal(pread(fd, b, META_AREA_BYTES, 0), (ssize_t)META_AREA_BYTES);
	return b;
}

/* Volume i (name "v<i>") has its own leaf of virtual size i + 1. */
#define MANY 200
static void add_many(int fd)
{
	for (int batch = 0; batch < MANY; batch += 40) {
		struct meta_sr *sr = open_rw(fd);
		for (int i = batch; i < batch + 40; i++) {
			char key[37], node[37], name[16];
			struct meta_volume *v;
			struct meta_node *n;
			snprintf(key, sizeof key, "%08x-1111-4111-8111-111111111111", i);
			snprintf(node, sizeof node, "%08x-2222-4222-8222-222222222222", i);
			snprintf(name, sizeof name, "v%d", i);
			add_node(sr, node, NULL);
			assert_int_equal(meta_node_find(sr, node, &n), 0);
			n->virtual_size = (uint64_t)i + 1;
			add_vol(sr, key, node);
			assert_int_equal(meta_volume_find(sr, key, &v), 0);
			assert_int_equal(meta_set_str(&v->name, name), 0);
		}
		assert_int_equal(meta_commit(sr), 0);
		meta_free(sr);
	}
}

static int leaf_fn(struct meta_sr *sr UNUSED, struct meta_volume *v, struct meta_node *leaf,
		   void *arg)
{
	assert_non_null(leaf);
	assert_string_equal(leaf->uuid, v->node);
	assert_int_equal(leaf->virtual_size, strtoull(v->name + 1, NULL, 10) + 1);
	(*(int *)arg)++;
	return 0;
}

static int node_fn(struct meta_sr *sr UNUSED, struct meta_node *n UNUSED, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* The listing hands every volume its own leaf and caches nothing: a
 * lookup per volume through the cache would make SR.ls quadratic. */
static void test_each_leaves(void **s UNUSED)
{
	int fd = new_area(), vols = 0, nodes = 0;
	struct meta_sr *sr;

	add_many(fd);
	assert_int_equal(meta_open(fd, false, &sr), 0);
	assert_int_equal(meta_volume_each(sr, leaf_fn, &vols), 0);
	assert_int_equal(vols, MANY);
	assert_int_equal(meta_node_each(sr, node_fn, &nodes), 0);
	assert_int_equal(nodes, MANY);
	assert_int_equal(sr->nvols, 0);
	assert_int_equal(sr->nnodes_cached, 0);
	meta_free(sr);
	close(fd);
}

static void wal_magic(int fd, char magic[9])
{
	assert_int_equal(pread(fd, magic, 8, 2 * META_BLOCK), 8);
	magic[8] = '\0';
}

/* Undo the home writes of the last commit but keep its WAL valid: the
 * state a crash after "wal-synced" leaves (before the WAL is retired). */
static void unapply(int fd, const unsigned char *before)
{
	size_t wal_end = (size_t)(2 + 1 + META_WAL_DATA) * META_BLOCK;

	assert_int_equal(pwrite(fd, before + wal_end, META_AREA_BYTES - wal_end, (off_t)wal_end),
			 (ssize_t)(META_AREA_BYTES - wal_end));
	assert_int_equal(pwrite(fd, META_WAL_MAGIC, 8, 2 * META_BLOCK), 8);
}

static void rename_k2(int fd, const char *name)
{
	struct meta_sr *sr = open_rw(fd);
	struct meta_volume *v;

	assert_int_equal(meta_volume_find(sr, K2, &v), 0);
	assert_int_equal(meta_set_str(&v->name, name), 0);
	assert_int_equal(meta_commit(sr), 0);
	meta_free(sr);
}

static const char *k2_name(int fd, bool rw, char *buf)
{
	struct meta_sr *sr = NULL;
	struct meta_volume *v;

	assert_int_equal(meta_open(fd, rw, &sr), 0);
	assert_int_equal(meta_volume_find(sr, K2, &v), 0);
	strcpy(buf, v->name);
	meta_free(sr);
	return buf;
}

static void test_wal(void **s UNUSED)
{
	int fd = sample();
	unsigned char *before = snapshot(fd);
	char buf[64], magic[9];

	rename_k2(fd, "new");
	/* A complete commit retires its WAL: the next writer has nothing
	 * to replay (and no sync to wait for). */
	wal_magic(fd, magic);
	assert_string_equal(magic, META_WAL_DONE);
	unapply(fd, before);
	/* A reader overlays the WAL without writing. */
	assert_string_equal(k2_name(fd, false, buf), "new");
	free(before);
	before = snapshot(fd);
	unapply(fd, before); /* still unapplied after the read-only open */
	/* A writer replays it; the home blocks then hold it. */
	assert_string_equal(k2_name(fd, true, buf), "new");
	wal_magic(fd, magic);
	assert_string_equal(magic, META_WAL_DONE); /* retired by the replay */
	/* Torn WAL: a later transaction's log damaged -> ignored. */
	rename_k2(fd, "newer");
	assert_int_equal(pwrite(fd, META_WAL_MAGIC, 8, 2 * META_BLOCK), 8);
	{
		unsigned char c;
		off_t off = (off_t)3 * META_BLOCK + 100;
		assert_int_equal(pread(fd, &c, 1, off), 1);
		c ^= 0x40;
		assert_int_equal(pwrite(fd, &c, 1, off), 1);
	}
	assert_string_equal(k2_name(fd, true, buf), "newer");
	assert_string_equal(k2_name(fd, false, buf), "newer");
	free(before);
	close(fd);
}

static uint32_t rec_block(int fd, const char *u);

/* A WAL naming one block twice (crc valid) is not one meta wrote: it is
 * ignored by readers and writers alike, who would otherwise see different
 * copies of the block. */
static void test_wal_twice(void **s UNUSED)
{
	int fd = sample();
	uint32_t b = rec_block(fd, K2), count;
	unsigned char h[META_BLOCK], *d = malloc((size_t)META_WAL_DATA * META_BLOCK);
	unsigned char stale[META_BLOCK];
	char buf[64];

	assert_non_null(d);
	assert_int_equal(pread(fd, stale, META_BLOCK, (off_t)b * META_BLOCK), META_BLOCK);
	rename_k2(fd, "new"); /* its WAL holds K2's block, named "new" */
	assert_int_equal(rec_block(fd, K2), b);
	assert_int_equal(pread(fd, h, META_BLOCK, 2 * META_BLOCK), META_BLOCK);
	count = get32(h + 16);
	assert_true(count < META_WAL_DATA);
	assert_int_equal(pread(fd, d, (size_t)count * META_BLOCK, 3 * META_BLOCK),
			 (ssize_t)count * META_BLOCK);
	/* Then the same block again, as it was before the rename. */
	memcpy(d + (size_t)count * META_BLOCK, stale, META_BLOCK);
	put32(h + 24 + 4 * count, b);
	put32(h + 16, count + 1);
	wal_seal(h, d);
	assert_int_equal(pwrite(fd, d, (size_t)(count + 1) * META_BLOCK, 3 * META_BLOCK),
			 (ssize_t)(count + 1) * META_BLOCK);
	assert_int_equal(pwrite(fd, h, META_BLOCK, 2 * META_BLOCK), META_BLOCK);
	assert_string_equal(k2_name(fd, false, buf), "new");
	assert_string_equal(k2_name(fd, true, buf), "new");
	free(d);
	close(fd);
}

static void flip(int fd, uint64_t off)
{
	unsigned char c;

	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
}

/* Where the record of uuid lives (from the index, read directly). */
static uint32_t rec_block(int fd, const char *u)
{
	struct meta_sr *sr = open_rw(fd);
	struct meta_entry e;
	uint8_t b[16];

	assert_int_equal(meta_uuid_bin(u, b), 0);
	assert_int_equal(ix_lookup(sr->area, b, &e), 0);
	meta_free(sr);
	return e.first;
}

static void expect_open_corrupt(int fd, bool rw)
{
	struct meta_sr *sr = NULL;

	assert_int_equal(meta_open(fd, rw, &sr), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
}

static void test_corrupt(void **s UNUSED)
{
	int fd = sample();
	uint32_t b = rec_block(fd, N1), srb = rec_block(fd, SRU);
	unsigned char *good;

	flip(fd, 2 * META_BLOCK); /* drop the applied WAL: it would repair */
	good = snapshot(fd);
	struct meta_sr *sr;
	struct meta_node *n;
	uint8_t u[16];
	uint32_t bucket;

	/* One superblock copy may be damaged, not both. */
	flip(fd, 20);
	sr = open_rw(fd);
	meta_free(sr);
	flip(fd, META_BLOCK + 20);
	expect_open_corrupt(fd, false);
	assert_int_equal(pwrite(fd, good, META_AREA_BYTES, 0), (ssize_t)META_AREA_BYTES);
	/* A node record: any byte of header or payload. */
	for (uint64_t off = 0; off < 160; off += 7) {
		flip(fd, (uint64_t)b * META_BLOCK + off);
		sr = open_rw(fd);
		assert_int_equal(meta_node_find(sr, N1, &n), -1);
		assert_int_equal(err_errnum(), EUCLEAN);
		meta_free(sr);
		flip(fd, (uint64_t)b * META_BLOCK + off);
	}
	/* The SR record. */
	flip(fd, (uint64_t)srb * META_BLOCK + 40);
	expect_open_corrupt(fd, true);
	flip(fd, (uint64_t)srb * META_BLOCK + 40);
	/* The bucket holding N1. */
	sr = open_rw(fd);
	assert_int_equal(meta_uuid_bin(N1, u), 0);
	bucket = ix_bucket_of(sr->area, u);
	meta_free(sr);
	flip(fd, (uint64_t)(2 + 1 + META_WAL_DATA + bucket) * META_BLOCK + 30);
	sr = open_rw(fd);
	assert_int_equal(meta_node_find(sr, N1, &n), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
	assert_int_equal(meta_check(sr), -1);
	meta_free(sr);
	assert_int_equal(pwrite(fd, good, META_AREA_BYTES, 0), (ssize_t)META_AREA_BYTES);
	/* A bitmap block: found when a commit allocates. */
	flip(fd, (uint64_t)(2 + 1 + META_WAL_DATA + META_NBUCKETS) * META_BLOCK + 2000);
	sr = open_rw(fd);
	add_node(sr, "cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee", NULL);
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
	meta_free(sr);
	free(good);
	close(fd);
}

/* A bitmap marking live records free (crc valid: a restored old copy)
 * is refused by meta_check, before an allocation overwrites them. */
static void test_bitmap_runs(void **s UNUSED)
{
	int fd = sample();
	unsigned char blk[META_BLOCK];
	struct meta_sr *sr;

	flip(fd, 2 * META_BLOCK); /* drop the applied WAL: it would repair */
	bm_init_block(blk, 0);
	assert_int_equal(pwrite(fd, blk, META_BLOCK,
				(off_t)(2 + 1 + META_WAL_DATA + META_NBUCKETS) * META_BLOCK),
			 META_BLOCK);
	sr = open_rw(fd);
	assert_int_equal(meta_check(sr), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
	assert_non_null(strstr(err_last()->msg, "marked free"));
	meta_free(sr);
	close(fd);
}

/* Replace the record of u in place (same number of blocks). */
static void rewrite(int fd, const char *u, int kind, const char *payload);

/* A record may spell a uuid in capitals: it is kept lowercase, so an
 * object is cached once and a link to it resolves. */
static void test_uuid_case(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr;
	struct meta_node *a, *b;
	struct meta_volume *v;

	flip(fd, 2 * META_BLOCK); /* drop the applied WAL: it would repair */
	rewrite(fd, N2, MK_NODE, "<node uuid=\"BBBBBBBB-BBBB-4CCC-8DDD-EEEEEEEEEEEE\" parent=\"" N0
		"\" hidden=\"false\" virtual-size=\"1\" image=\"x.qcow2\" refs=\"1\"/>");
	rewrite(fd, K2, MK_VOLUME, "<volume key=\"" K2 "\" uuid=\"" K2 "\" node=\"BBBBBBBB-BBBB-"
		"4CCC-8DDD-EEEEEEEEEEEE\" sharable=\"false\" read-write=\"true\"><name>v</name>"
		"<description/><keys/></volume>");
	sr = open_rw(fd);
	assert_int_equal(meta_volume_find(sr, K2, &v), 0);
	assert_string_equal(v->node, N2);
	assert_int_equal(meta_node_find(sr, N2, &a), 0);
	assert_int_equal(meta_node_find(sr, N2, &b), 0);
	assert_ptr_equal(a, b);
	assert_string_equal(a->uuid, N2);
	assert_int_equal(meta_check(sr), 0);
	meta_free(sr);
	close(fd);
}

/* The SR record's bucket damaged: that is what open reports. */
static void test_sr_bucket(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr = open_rw(fd);
	uint32_t bucket = ix_bucket_of(sr->area, sr->area->sr_uuid);

	meta_free(sr);
	flip(fd, 2 * META_BLOCK); /* drop the applied WAL: it would repair */
	flip(fd, (uint64_t)(2 + 1 + META_WAL_DATA + bucket) * META_BLOCK + 30);
	expect_open_corrupt(fd, false);
	assert_non_null(strstr(err_last()->msg, "is damaged"));
	close(fd);
}

/* Both superblocks get geometry v (crc recomputed: a hand edit). */
static void set_geom(int fd, const uint32_t v[8])
{
	unsigned char sb[META_BLOCK];

	for (int c = 0; c < 2; c++) {
		assert_int_equal(pread(fd, sb, META_BLOCK, (off_t)c * META_BLOCK), META_BLOCK);
		for (int i = 0; i < 8; i++)
			put32(sb + 32 + 4 * i, v[i]);
		sb_seal(sb);
		assert_int_equal(pwrite(fd, sb, META_BLOCK, (off_t)c * META_BLOCK), META_BLOCK);
	}
}

/* Geometries the code cannot serve are refused at open: a second bitmap
 * block covering no record block (allocation would run past the region),
 * an index too large to read in one buffer. */
static void test_geometry(void **s UNUSED)
{
	const uint32_t ix = 2 + 1 + META_WAL_DATA, bm = ix + META_NBUCKETS;
	const uint32_t bad[][8] = {
		{ 2, 1 + META_WAL_DATA, ix, META_NBUCKETS, bm, 2, bm + 2, 100 },
		{ 2, 1 + META_WAL_DATA, ix, 1u << 20, ix + (1u << 20), 1, ix + (1u << 20) + 1, 100 },
	};
	int fd = sample();

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		set_geom(fd, bad[i]);
		expect_open_corrupt(fd, false);
		assert_non_null(strstr(err_last()->msg, "no valid superblock"));
	}
	close(fd);
}

#define DEEP 5000u

static void chain_id(unsigned i, char out[37])
{
	snprintf(out, 37, "%08x-0000-4000-8000-000000000000", i);
}

/* A chain of DEEP nodes (small geometry so 150 fit in one commit). */
static int deep_chain(void)
{
	const uint32_t ix = 2 + 1 + META_WAL_DATA;
	const struct meta_geom g = { 2, 1 + META_WAL_DATA, ix, 64, ix + 64, 1, ix + 65, 8192 };
	char path[] = "/tmp/lq-meta-test-XXXXXX", id[37], up[37];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(meta_format_geom(fd, SRU, "deep", "", &g), 0);
	for (unsigned i = 0; i < DEEP; i += 150) {
		struct meta_sr *sr = open_rw(fd);
		for (unsigned k = i; k < i + 150 && k < DEEP; k++) {
			chain_id(k, id);
			chain_id(k - 1, up);
			add_node(sr, id, k ? up : NULL);
		}
		assert_int_equal(meta_commit(sr), 0);
		meta_free(sr);
	}
	return fd;
}

static int no_op(struct meta_sr *sr UNUSED, struct meta_node *n UNUSED, void *arg UNUSED)
{
	return 0;
}

/* meta_check walks a deep chain in linear time: about the cost of loading
 * the records (when every node walked to the root, seconds more), and
 * finds a cycle closing it. */
static void test_deep_chain(void **s UNUSED)
{
	int fd = deep_chain();
	struct meta_sr *sr = open_rw(fd);
	struct meta_node *n;
	char id[37];
	clock_t t0 = clock(), load;

	assert_int_equal(meta_node_each(sr, no_op, NULL), 0);
	load = clock() - t0;
	t0 = clock();
	assert_int_equal(meta_check(sr), 0);
	assert_true(clock() - t0 < 3 * load + CLOCKS_PER_SEC / 10);
	chain_id(0, id);
	assert_int_equal(meta_node_find(sr, id, &n), 0);
	chain_id(DEEP - 1, id);
	assert_int_equal(meta_set_str(&n->parent, id), 0);
	assert_int_equal(meta_commit(sr), 0);
	assert_int_equal(meta_check(sr), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
	assert_non_null(strstr(err_last()->msg, "cycle"));
	meta_free(sr);
	close(fd);
}

/* A damaged count in the SR record (0 volumes while there are two), or
 * refs at the top of their range, are refused at commit, not wrapped or
 * pushed out of range into a record no open could read. */
static void test_count_range(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr;

	flip(fd, 2 * META_BLOCK); /* drop the applied WAL: it would repair */
	rewrite(fd, SRU, MK_SR, "<sr uuid=\"" SRU "\" generation=\"2\" volumes=\"0\" nodes=\"3\" "
		"journal=\"0\"><name>sr name</name><description>sr desc</description></sr>");
	sr = open_rw(fd);
	assert_int_equal(meta_volume_remove(sr, K2), 0);
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
	meta_free(sr);
	sr = open_rw(fd);
	assert_int_equal(sr->nvolumes, 0);
	meta_free(sr);
	close(fd);
	/* The same for refs at the top of their range and one child more. */
	fd = sample();
	flip(fd, 2 * META_BLOCK);
	rewrite(fd, N1, MK_NODE, "<node uuid=\"" N1 "\" parent=\"" N0 "\" hidden=\"false\" "
		"virtual-size=\"1\" image=\"x.qcow2\" refs=\"9223372036854775807\"/>");
	sr = open_rw(fd);
	add_node(sr, "cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee", N1);
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
	meta_free(sr);
	close(fd);
}

/* Records past the end of a short area (a truncated copy) are corrupt,
 * not read as zeros. */
static void test_short_area(void **s UNUSED)
{
	int fd = sample();
	uint32_t rec_start = 2 + 1 + META_WAL_DATA + META_NBUCKETS + META_BITMAP_BLOCKS;
	struct meta_sr *sr = NULL;

	flip(fd, 2 * META_BLOCK); /* drop the applied WAL: it would repair */
	assert_int_equal(rec_block(fd, SRU), rec_start);
	assert_int_equal(ftruncate(fd, (off_t)(rec_start + 1) * META_BLOCK), 0);
	assert_int_equal(meta_open(fd, false, &sr), 0);
	assert_int_equal(meta_check(sr), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
	assert_non_null(strstr(err_last()->msg, "short"));
	meta_free(sr);
	close(fd);
}

/* Bits of the last bitmap block beyond the record region are never
 * allocated: with the region's own bits all taken, the area is full. */
static void test_bitmap_tail(void **s UNUSED)
{
	const uint32_t ix = 2 + 1 + META_WAL_DATA;
	const struct meta_geom g = { 2, 1 + META_WAL_DATA, ix, 8, ix + 8, 1, ix + 9, 100 };
	char path[] = "/tmp/lq-meta-test-XXXXXX", id[UUID_STR_LEN];
	int fd = mkstemp(path);
	unsigned char blk[META_BLOCK];
	struct meta_sr *sr;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(meta_format_geom(fd, SRU, "tail", "", &g), 0);
	flip(fd, 2 * META_BLOCK); /* drop the applied WAL: it would repair */
	assert_int_equal(pread(fd, blk, META_BLOCK, (off_t)(ix + 8) * META_BLOCK), META_BLOCK);
	memset(blk + META_HDR, 0xff, 100 / 8);
	blk[META_HDR + 100 / 8] = 0x0f; /* bits 96..99 */
	ix_seal_block(blk);
	assert_int_equal(pwrite(fd, blk, META_BLOCK, (off_t)(ix + 8) * META_BLOCK), META_BLOCK);
	sr = open_rw(fd);
	assert_int_equal(uuid_generate(id), 0);
	assert_non_null(meta_journal_add(sr, id, "op"));
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), ENOSPC);
	meta_free(sr);
	close(fd);
}

static void test_limits(void **s UNUSED)
{
	int fd = sample();
	struct meta_sr *sr = open_rw(fd);
	struct meta_volume *v;
	char *big = malloc(META_STR_MAX + 1), id[UUID_STR_LEN];

	/* Record too large: 9 values of 8 KiB are beyond 64 KiB. */
	memset(big, 'x', META_STR_MAX);
	big[META_STR_MAX] = '\0';
	assert_int_equal(meta_volume_find(sr, K1, &v), 0);
	for (int i = 0; i < 9; i++) {
		char k[16];
		snprintf(k, sizeof k, "b%d", i);
		assert_int_equal(meta_volume_set_key(v, k, big), 0);
	}
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), EFBIG);
	meta_free(sr);
	/* Transaction too large for the log: nothing written. */
	sr = open_rw(fd);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(uuid_generate(id), 0);
		assert_non_null(meta_journal_add(sr, id, "op"));
	}
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), E2BIG);
	meta_free(sr);
	sr = open_rw(fd);
	check_sample(sr);
	assert_int_equal(sr->generation, 2);
	meta_free(sr);
	free(big);
	close(fd);
}

static void test_bucket_full(void **s UNUSED)
{
	int fd = new_area();
	struct meta_sr *sr = open_rw(fd);
	char id[UUID_STR_LEN];
	uint8_t u[16];
	unsigned added = 0;

	while (added <= META_BUCKET_CAP) {
		assert_int_equal(uuid_generate(id), 0);
		assert_int_equal(meta_uuid_bin(id, u), 0);
		if (ix_bucket_of(sr->area, u) != 7)
			continue;
		assert_non_null(meta_journal_add(sr, id, "op"));
		if (++added == META_BUCKET_CAP) {
			assert_int_equal(meta_commit(sr), 0);
			meta_free(sr);
			sr = open_rw(fd);
		}
	}
	assert_int_equal(meta_commit(sr), -1);
	assert_int_equal(err_errnum(), ENOSPC);
	assert_non_null(strstr(err_last()->msg, "index full"));
	meta_free(sr);
	sr = open_rw(fd);
	assert_int_equal(sr->njournal, META_BUCKET_CAP);
	assert_int_equal(meta_check(sr), 0);
	meta_free(sr);
	close(fd);
}

/* A valid record header around payload (crc fixed up). */
static size_t record(unsigned char *buf, int kind, const char *u, const char *payload)
{
	uint8_t b[16];

	assert_int_equal(meta_uuid_bin(u, b), 0);
	memset(buf, 0, META_REC_MAX);
	rec_image(buf, (enum meta_kind)kind, b, payload, strlen(payload));
	return rec_blocks_for(strlen(payload)) * META_BLOCK;
}

static void expect_bad(int kind, const char *u, const char *payload)
{
	static unsigned char buf[META_REC_MAX];
	size_t len = record(buf, kind, u, payload);

	assert_int_equal(meta_record_try(buf, len), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
}

static void rewrite(int fd, const char *u, int kind, const char *payload)
{
	static unsigned char buf[META_REC_MAX];
	size_t len = record(buf, kind, u, payload);
	uint32_t first = rec_block(fd, u);

	assert_int_equal(pwrite(fd, buf, len, (off_t)first * META_BLOCK), (ssize_t)len);
}

static void test_hostile_records(void **s UNUSED)
{
	static unsigned char buf[META_REC_MAX];
	const char *laughs =
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
		"<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
		"<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
		"<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
		"<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
		"<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
		"<node uuid=\"" N1 "\" hidden=\"false\" virtual-size=\"1\" image=\"&lol9;\" refs=\"0\"/>";
	const char *ok = "<node uuid=\"" N1 "\" hidden=\"false\" virtual-size=\"1\" image=\"a.b\" refs=\"0\"/>";
	clock_t t0 = clock();
	size_t len;

	expect_bad(MK_NODE, N1, laughs);
	assert_true(clock() - t0 < CLOCKS_PER_SEC / 10);
	expect_bad(MK_NODE, N1, "<node uuid=\"" N1 "\" hidden=\"false\" virtual-size=\"1\" image=\"&x;\" refs=\"0\"/>");
	expect_bad(MK_NODE, N1, "<node uuid=\"" N1 "\" hidden=\"false\" virtual-size=\"17592186044417\" image=\"a\" refs=\"0\"/>");
	expect_bad(MK_NODE, N1, "<node uuid=\"" N1 "\" hidden=\"false\" virtual-size=\"1\" image=\"../etc\" refs=\"0\"/>");
	expect_bad(MK_NODE, N1, "<node uuid=\"" N1 "\" hidden=\"false\" virtual-size=\"1\" image=\"a/b\" refs=\"0\"/>");
	expect_bad(MK_NODE, N1, "<node uuid=\"" N1 "\" hidden=\"false\" virtual-size=\"1\" image=\"a\" refs=\"-1\"/>");
	expect_bad(MK_NODE, N1, "<node uuid=\"" N0 "\" hidden=\"false\" virtual-size=\"1\" image=\"a\" refs=\"0\"/>");
	expect_bad(MK_NODE, N1, "<node uuid=\"" N1 "\" parent=\"x\" hidden=\"false\" virtual-size=\"1\" image=\"a\" refs=\"0\"/>");
	expect_bad(MK_VOLUME, N1, ok);
	expect_bad(MK_SR, SRU, "<sr uuid=\"" SRU "\" generation=\"0\" volumes=\"0\" nodes=\"0\" journal=\"0\"><name/><description/></sr>");
	expect_bad(MK_SR, SRU, "<sr uuid=\"" SRU "\" generation=\"9223372036854775808\" volumes=\"0\" nodes=\"0\" journal=\"0\"><name/><description/></sr>");
	expect_bad(MK_NODE, N1, "<node");
	len = record(buf, MK_NODE, N1, ok);
	assert_int_equal(meta_record_try(buf, len), 0);
	buf[40] ^= 1; /* payload byte: crc mismatch */
	assert_int_equal(meta_record_try(buf, len), -1);
	assert_int_equal(err_errnum(), EUCLEAN);
}

static void test_xml_safe(void **s UNUSED)
{
	assert_true(meta_str_is_xml_safe("plain \xc3\xa9"));
	assert_false(meta_str_is_xml_safe("cr\r"));
	assert_false(meta_str_is_xml_safe("\x01"));
	assert_false(meta_str_is_xml_safe("\xed\xa0\x80"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_image_known_forms),
		cmocka_unit_test(test_each_and_set),
		cmocka_unit_test(test_key_spelling),
		cmocka_unit_test(test_each_leaves),
		cmocka_unit_test(test_wal),
		cmocka_unit_test(test_wal_twice),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_bitmap_runs),
		cmocka_unit_test(test_uuid_case),
		cmocka_unit_test(test_sr_bucket),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_deep_chain),
		cmocka_unit_test(test_count_range),
		cmocka_unit_test(test_short_area),
		cmocka_unit_test(test_bitmap_tail),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bucket_full),
		cmocka_unit_test(test_hostile_records),
		cmocka_unit_test(test_xml_safe),
		cmocka_unit_test(test_journal_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
