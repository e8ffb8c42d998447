/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Concurrency test of one image handle: threads write, zero and discard
 * their own interleaved byte stripes (sharing clusters, L2 tables and
 * refcount blocks with each other) while a reader sweeps the whole disk;
 * every thread checks its own bytes as it goes, and the final image is
 * checked against the models after a reopen.  Run buffered, and with
 * O_DIRECT (the /tmp filesystem permitting) on 4 KiB and 512-byte
 * clusters: with the latter, data clusters, L2 tables and refcount
 * blocks share the device's blocks, so every write is a read-modify-write
 * racing its neighbours'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/qcow2.h"
#include "qcow2-int.h"

#define VSIZE (4u << 20)
#define STRIPE 6144
#define THREADS 4
#define OPS 400

static struct qcow2_image *img;
static uint8_t model[VSIZE];
static volatile int stop_reader;
static int direct;   /* QCOW2_OPEN_DIRECT or 0 */
static uint32_t csize = 4096;

struct worker {
	int id;
	unsigned seed;
	int failed;
};

static uint64_t pick(struct worker *w, uint64_t *len)
{
	uint64_t stripes = VSIZE / STRIPE, s = (uint64_t)rand_r(&w->seed) % (stripes / THREADS);
	uint64_t base = (s * THREADS + (uint64_t)w->id) * STRIPE;
	uint64_t a = (uint64_t)rand_r(&w->seed) % STRIPE, b = (uint64_t)rand_r(&w->seed) % STRIPE;

	if (a > b) {
		uint64_t t = a;
		a = b;
		b = t;
	}
	*len = b - a + 1;
	return base + a;
}

static int one_op(struct worker *w)
{
	uint64_t len, off = pick(w, &len);
	uint8_t buf[STRIPE];
	int op = rand_r(&w->seed) % 10;

	if (op < 6) {
		memset(buf, (w->id << 6) | (rand_r(&w->seed) & 63), len);
		if (qcow2_pwrite(img, buf, len, off) < 0)
			return -1;
		memcpy(model + off, buf, len);
	} else if (op < 8) {
		if (qcow2_pzero(img, off, len, op == 7 ? QCOW2_ZERO_MAY_UNMAP : 0) < 0)
			return -1;
		memset(model + off, 0, len);
	} else {
		if (qcow2_pread(img, buf, len, off) < 0)
			return -1;
		if (memcmp(buf, model + off, len))
			return fprintf(stderr, "thread %d: mismatch at %llu\n", w->id,
				       (unsigned long long)off), -1;
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < OPS && !w->failed; i++)
		if (one_op(w) < 0)
			w->failed = 1;
	return NULL;
}

static void *sweep(void *arg)
{
	uint8_t *buf = malloc(1 << 20);
	int *failed = arg;

	while (!stop_reader && buf)
		for (uint64_t off = 0; off < VSIZE; off += 1 << 20)
			if (qcow2_pread(img, buf, 1 << 20, off) < 0)
				*failed = 1;
	free(buf);
	return NULL;
}

static void verify(void)
{
	uint8_t *buf = malloc(VSIZE);

	assert_non_null(buf);
	assert_int_equal(qcow2_pread(img, buf, VSIZE, 0), 0);
	assert_memory_equal(buf, model, VSIZE);
	free(buf);
}

static void run(const char *path)
{
	pthread_t th[THREADS], rd;
	struct worker w[THREADS];
	int rfail = 0;

	assert_int_equal(qcow2_open(path, QCOW2_OPEN_RDWR | QCOW2_OPEN_ANY_BACKING | direct, &img), 0);
	/* ext4 and xfs (the test machines' /tmp) take O_DIRECT. */
	assert_true(!direct || (img->dio.align && (!img->backing || img->backing->dio.align)));
	stop_reader = 0;
	pthread_create(&rd, NULL, sweep, &rfail);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ i, 1234u + (unsigned)i, 0 };
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
	}
	stop_reader = 1;
	pthread_join(rd, NULL);
	assert_int_equal(rfail, 0);
	verify();
	assert_int_equal(qcow2_close(img), 0);
	assert_int_equal(qcow2_open(path, QCOW2_OPEN_ANY_BACKING | direct, &img), 0);
	verify();
	assert_int_equal(qcow2_close(img), 0);
}

static void test_plain(void **state)
{
	char path[] = "/tmp/lq-threads-XXXXXX";
	struct qcow2_create_opts o = { .size = VSIZE, .cluster_size = csize };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	memset(model, 0, sizeof model);
	assert_int_equal(qcow2_create(path, &o), 0);
	run(path);
	unlink(path);
}

static void test_backing(void **state)
{
	char base[] = "/tmp/lq-threads-base-XXXXXX", top[] = "/tmp/lq-threads-top-XXXXXX";
	struct qcow2_create_opts o = { .size = VSIZE, .cluster_size = csize, .compat = 2 };
	int fd = mkstemp(base), fd2 = mkstemp(top);

	(void)state;
	assert_true(fd >= 0 && fd2 >= 0);
	for (size_t i = 0; i < VSIZE; i++)
		model[i] = (uint8_t)(i * 7 + i / 4096);
	assert_int_equal(write(fd, model, VSIZE / 2), VSIZE / 2);
	memset(model + VSIZE / 2, 0, VSIZE / 2);
	close(fd);
	close(fd2);
	unlink(top);
	o.backing = base;
	o.backing_fmt = "raw";
	assert_int_equal(qcow2_create(top, &o), 0);
	run(top);
	unlink(top);
	unlink(base);
}

/* Direct I/O where /tmp allows it (tmpfs before Linux 6.6 does not). */
static bool tmp_direct(void)
{
	char path[] = "/tmp/lq-threads-probe-XXXXXX";
	bool is_direct = false;
	int fd = mkstemp(path), d;

	assert_true(fd >= 0);
	close(fd);
	d = dio_open(path, O_RDWR, true, &is_direct);
	if (d >= 0)
		close(d);
	unlink(path);
	return is_direct;
}

static void test_direct(void **state)
{
	(void)state;
	if (!tmp_direct())
		skip();
	direct = QCOW2_OPEN_DIRECT;
	for (csize = 512; csize <= 4096; csize *= 8) {
		test_plain(state);
		test_backing(state);
	}
	direct = 0;
	csize = 4096;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_backing),
		cmocka_unit_test(test_direct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
