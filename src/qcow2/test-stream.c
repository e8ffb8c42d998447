/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2_stream: a parent streamed under its child while the child is
 * written.  The guest view never changes, the child ends up shadowing
 * everything the parent held (so it can be put on the parent's parent),
 * zeros stay zeros, a guest write that came first is kept, and writers
 * racing the stream (4 threads over small clusters, so that writes land
 * between a batch's read and its locked write) lose nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "lq/qcow2.h"

#define CL 512u
#define VSIZE (2u << 20)
#define WRITERS 4
#define WRITES 3000

static char dir[64], base[128], parent[128], child[128];
static uint8_t model[VSIZE];

static void make(const char *path, const char *backing, uint64_t size)
{
	struct qcow2_create_opts o = { .size = size, .cluster_size = CL, .backing = backing,
				       .backing_fmt = backing ? "qcow2" : NULL };

	unlink(path);
	assert_int_equal(qcow2_create(path, &o), 0);
}

static struct qcow2_image *open_on(const char *path, const char *const *chain, size_t n)
{
	struct qcow2_backing b[2];
	struct qcow2_image *img;

	for (size_t i = 0; i < n; i++)
		b[i] = (struct qcow2_backing){ .path = chain[i] };
	assert_int_equal(qcow2_open_chain(path, b, n, QCOW2_OPEN_RDWR, &img), 0);
	return img;
}

static void write_pattern(struct qcow2_image *img, uint64_t off, uint64_t len, int tag)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(tag + (off + i) / 7);
	assert_int_equal(qcow2_pwrite(img, buf, len, off), 0);
	free(buf);
}

/* base: all data.  parent: data over most of the disk, a zero run, a
 * hole.  child: a few clusters of its own and one zero cluster. */
static int setup(void **state)
{
	struct qcow2_image *img;
	const char *pb[1], *cb[2];

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/lq-stream-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof base, "%s/base.qcow2", dir);
	snprintf(parent, sizeof parent, "%s/parent.qcow2", dir);
	snprintf(child, sizeof child, "%s/child.qcow2", dir);
	make(base, NULL, VSIZE);
	img = open_on(base, NULL, 0);
	write_pattern(img, 0, VSIZE, 0x10);
	assert_int_equal(qcow2_close(img), 0);
	make(parent, "base.qcow2", VSIZE);
	pb[0] = base;
	img = open_on(parent, pb, 1);
	write_pattern(img, 0, VSIZE / 2, 0x40);
	write_pattern(img, VSIZE / 2 + 64 * CL, VSIZE / 4, 0x50);
	assert_int_equal(qcow2_pzero(img, VSIZE / 2 + 8 * CL + 100, 16 * CL, 0), 0);
	assert_int_equal(qcow2_close(img), 0);
	make(child, "parent.qcow2", VSIZE);
	cb[0] = parent;
	cb[1] = base;
	img = open_on(child, cb, 2);
	write_pattern(img, 3 * CL + 7, 2 * CL, 0x70);
	assert_int_equal(qcow2_pzero(img, 100 * CL, CL, 0), 0);
	assert_int_equal(qcow2_pread(img, model, VSIZE, 0), 0);
	assert_int_equal(qcow2_close(img), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct qcow2_image *open_child(void)
{
	const char *cb[2] = { parent, base };

	return open_on(child, cb, 2);
}

/* The child read on the base alone (the parent taken out of the chain)
 * must read as the model: it shadows everything the parent held. */
static void check_without_parent(void)
{
	const char *bb[1] = { base };
	struct qcow2_image *img = open_on(child, bb, 1);
	uint8_t *buf = malloc(VSIZE);
	struct qcow2_check_result res;

	assert_non_null(buf);
	assert_int_equal(qcow2_pread(img, buf, VSIZE, 0), 0);
	assert_memory_equal(buf, model, VSIZE);
	assert_int_equal(qcow2_close(img), 0);
	free(buf);
	memset(&res, 0, sizeof res);
	assert_int_equal(qcow2_check(child, 0, &res), QCOW2_CHECK_CLEAN);
}

static void check_view(struct qcow2_image *img)
{
	uint8_t *buf = malloc(VSIZE);

	assert_non_null(buf);
	assert_int_equal(qcow2_pread(img, buf, VSIZE, 0), 0);
	assert_memory_equal(buf, model, VSIZE);
	free(buf);
}

static void test_whole(void **state)
{
	struct qcow2_image *img = open_child();
	uint64_t bytes = 0, again = 1;
	struct qcow2_map_entry e;

	(void)state;
	assert_int_equal(qcow2_stream(img, 0, VSIZE, &bytes), 0);
	assert_true(bytes > 0 && bytes < VSIZE);
	check_view(img);
	/* the zero run stays a zero run in the child */
	assert_true(qcow2_map(img, VSIZE / 2 + 10 * CL, CL, &e, 1) == 1);
	assert_int_equal(e.kind, QCOW2_MAP_ZERO);
	/* done: a second stream has nothing left to copy */
	assert_int_equal(qcow2_stream(img, 0, VSIZE, &again), 0);
	assert_int_equal(again, 0);
	assert_int_equal(qcow2_close(img), 0);
	check_without_parent();
}

/* In pieces, with guest writes in between: the writes are kept. */
static void test_pieces_guest_first(void **state)
{
	struct qcow2_image *img = open_child();

	(void)state;
	for (uint64_t off = 0; off < VSIZE; off += 40 * CL + 3) {
		uint64_t w = (off * 7) % (VSIZE - 3 * CL);
		write_pattern(img, w, 2 * CL + 5, 0x90);
		for (uint64_t i = 0; i < 2 * CL + 5; i++)
			model[w + i] = (uint8_t)(0x90 + (w + i) / 7);
		assert_int_equal(qcow2_stream(img, off, MIN(40 * CL + 3, VSIZE - off), NULL), 0);
	}
	check_view(img);
	assert_int_equal(qcow2_close(img), 0);
	check_without_parent();
}

struct writer {
	struct qcow2_image *img;
	int id;
	unsigned seed;
	int failed;
};

/* Writer id owns every WRITERS-th stripe of 3 clusters: stripes share
 * L2 tables and refcount blocks with the other writers and the stream. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t stripe = 3 * CL, nstripes = VSIZE / stripe;
	uint8_t buf[3 * CL], back[3 * CL];

	for (int i = 0; i < WRITES && !w->failed; i++) {
		uint64_t s = (uint64_t)rand_r(&w->seed) % (nstripes / WRITERS) * WRITERS + w->id;
		uint64_t a = (uint64_t)rand_r(&w->seed) % stripe, len = 1 + rand_r(&w->seed) % (stripe - a);
		uint64_t off = s * stripe + a;

		memset(buf, (w->id << 5) | (i & 31), len);
		if (qcow2_pwrite(w->img, buf, len, off) < 0 ||
		    qcow2_pread(w->img, back, len, off) < 0 || memcmp(buf, back, len))
			w->failed = 1;
		memcpy(model + off, buf, len);
	}
	return NULL;
}

static void test_race(void **state)
{
	struct qcow2_image *img = open_child();
	struct writer w[WRITERS];
	pthread_t t[WRITERS];

	(void)state;
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .img = img, .id = i, .seed = 77u + (unsigned)i };
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	/* several passes, so that the stream meets the writers everywhere */
	for (int pass = 0; pass < 3; pass++)
		for (uint64_t off = 0; off < VSIZE; off += 256 * CL)
			assert_int_equal(qcow2_stream(img, off, 256 * CL, NULL), 0);
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failed, 0);
	}
	/* the last writes may have come after the last pass: finish */
	assert_int_equal(qcow2_stream(img, 0, VSIZE, NULL), 0);
	check_view(img);
	assert_int_equal(qcow2_close(img), 0);
	check_without_parent();
}

static void test_refused(void **state)
{
	struct qcow2_image *img;

	(void)state;
	/* nothing below to stream from */
	assert_int_equal(qcow2_open(child, QCOW2_OPEN_RDWR | QCOW2_OPEN_NO_BACKING, &img), 0);
	assert_int_equal(qcow2_stream(img, 0, VSIZE, NULL), -1);
	assert_int_equal(err_errnum(), EINVAL);
	assert_int_equal(qcow2_close(img), 0);
	/* read-only, and a range past the end */
	assert_int_equal(qcow2_open(child, 0, &img), 0);
	assert_int_equal(qcow2_stream(img, 0, VSIZE, NULL), -1);
	qcow2_close(img);
	img = open_child();
	assert_int_equal(qcow2_stream(img, VSIZE - CL, 2 * CL, NULL), -1);
	assert_int_equal(qcow2_close(img), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pieces_guest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
