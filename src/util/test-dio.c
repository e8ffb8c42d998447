/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of util/dio: unaligned requests against a byte model, with
 * the alignment forced on a buffered file (dio.c asserts that every
 * system call it makes is aligned) and on a real O_DIRECT file where the
 * filesystem allows it (the kernel refuses any unaligned call); the end
 * of file; and neighbouring single-byte writes from many threads, which
 * lose bytes unless read-modify-write is serialised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/dio.h"
#include "lq/err.h"

#define FILE_LEN (256u * 1024)

static char tmpl[] = "/tmp/lq-test-dio.XXXXXX";

/* A fresh file of FILE_LEN bytes of pattern; direct: try O_DIRECT. */
static int scratch(bool direct, bool *is_direct)
{
	char path[sizeof tmpl];
	uint8_t *p = malloc(FILE_LEN);
	int fd;

	memcpy(path, tmpl, sizeof tmpl);
	fd = mkstemp(path);
	assert_true(fd >= 0 && p);
	for (size_t i = 0; i < FILE_LEN; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(pwrite(fd, p, FILE_LEN, 0), (ssize_t)FILE_LEN);
	close(fd);
	free(p);
	fd = dio_open(path, O_RDWR | O_CLOEXEC, direct, is_direct);
	unlink(path);
	assert_true(fd >= 0);
	return fd;
}

static void model_init(uint8_t *m)
{
	for (size_t i = 0; i < FILE_LEN; i++)
		m[i] = (uint8_t)(i * 7 + 3);
}

/* Random unaligned writes and reads, with unaligned buffers, compared
 * byte for byte with the model after each step. */
static void random_ops(struct dio *d)
{
	uint8_t *m = malloc(FILE_LEN), *buf = malloc(FILE_LEN + 16), *got = malloc(FILE_LEN + 16);
	unsigned seed = 12345;

	assert_true(m && buf && got);
	model_init(m);
	for (int it = 0; it < 400; it++) {
		size_t len = (size_t)rand_r(&seed) % (it % 5 ? 9000 : 70000) + 1;
		uint64_t off = (uint64_t)rand_r(&seed) % (FILE_LEN - len);
		uint8_t *b = buf + rand_r(&seed) % 16;

		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)rand_r(&seed);
		assert_int_equal(dio_write(d, b, len, off), 0);
		memcpy(m + off, b, len);
		off = (uint64_t)rand_r(&seed) % (FILE_LEN - len);
		b = got + rand_r(&seed) % 16;
		assert_int_equal(dio_read(d, b, len, off), 0);
		assert_memory_equal(b, m + off, len);
	}
	assert_int_equal(dio_read(d, got, FILE_LEN, 0), 0);
	assert_memory_equal(got, m, FILE_LEN);
	free(m), free(buf), free(got);
}

static void test_forced_align(void **state)
{
	bool is_direct;
	int fd = scratch(false, &is_direct);
	struct dio d;

	assert_false(is_direct);
	dio_init(&d, fd);
	assert_int_equal(d.align, 0);  /* buffered: no alignment */
	dio_init_align(&d, fd, 4096);
	random_ops(&d);
	dio_destroy(&d);
	close(fd);
}

static void test_real_direct(void **state)
{
	bool is_direct;
	int fd = scratch(true, &is_direct);
	struct dio d;

	if (!is_direct) {
		close(fd);
		skip();
	}
	dio_init(&d, fd);
	assert_true(d.align >= 512 && d.mem_align >= 1);
	random_ops(&d);
	dio_destroy(&d);
	close(fd);
}

/* A file ending in mid-block (as qemu leaves a fresh image): reads past
 * its end are zeros, a write across it keeps the bytes before it. */
static void test_eof(void **state)
{
	bool is_direct;
	int fd = scratch(false, &is_direct);
	uint8_t b[8192], want[8192];
	struct dio d;

	assert_int_equal(ftruncate(fd, 4096 * 3 + 8), 0);
	dio_init_align(&d, fd, 4096);
	assert_int_equal(dio_read(&d, b, sizeof b, 4096 * 2 + 100), 0);
	for (size_t i = 0; i < sizeof b; i++) {
		uint64_t o = 4096 * 2 + 100 + i;
		want[i] = o < 4096 * 3 + 8 ? (uint8_t)(o * 7 + 3) : 0;
	}
	assert_memory_equal(b, want, sizeof b);
	memset(b, 0xab, 10);
	assert_int_equal(dio_write(&d, b, 10, 4096 * 3 + 4), 0);
	assert_int_equal(dio_read(&d, b, 20, 4096 * 3), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(b[i], (uint8_t)((4096 * 3 + i) * 7 + 3));
	for (int i = 4; i < 14; i++)
		assert_int_equal(b[i], 0xab);
	for (int i = 14; i < 20; i++)
		assert_int_equal(b[i], 0);
	dio_destroy(&d);
	close(fd);
}

#define THREADS 8
#define SPAN 16384
#define ROUNDS 40

struct worker {
	struct dio *d;
	int id;
};

/* Thread id owns the bytes at i*THREADS+id; each round rewrites them
 * all, one byte per write. */
static void *worker(void *arg)
{
	struct worker *w = arg;

	for (int r = 1; r <= ROUNDS; r++)
		for (int i = 0; i < SPAN / THREADS; i += 97) {
			uint8_t v = (uint8_t)(r + w->id);

			if (dio_write(w->d, &v, 1, (uint64_t)i * THREADS + (uint64_t)w->id) < 0)
				return (void *)1;
		}
	return NULL;
}

static void test_neighbours(void **state)
{
	bool is_direct;
	int fd = scratch(true, &is_direct);
	pthread_t t[THREADS];
	struct worker w[THREADS];
	uint8_t *b = dio_alloc(SPAN);
	struct dio d;

	dio_init(&d, fd);
	if (!d.align)
		dio_init_align(&d, fd, 4096);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ &d, i };
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		void *rv;
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	assert_int_equal(dio_read(&d, b, SPAN, 0), 0);
	for (int i = 0; i < SPAN / THREADS; i += 97)
		for (int id = 0; id < THREADS; id++)
			assert_int_equal(b[i * THREADS + id], (uint8_t)(ROUNDS + id));
	free(b);
	dio_destroy(&d);
	close(fd);
}

static void test_aligned_rule(void **state)
{
	struct dio d;
	uint8_t *b = dio_alloc(8192);

	dio_init_align(&d, -1, 4096);
	assert_true(dio_aligned(&d, b, 4096, 8192));
	assert_false(dio_aligned(&d, b + 1, 4096, 8192));
	assert_false(dio_aligned(&d, b, 4095, 8192));
	assert_false(dio_aligned(&d, b, 4096, 512));
	dio_init_align(&d, -1, 0);
	assert_true(dio_aligned(&d, b + 1, 3, 5));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aligned_rule),
		cmocka_unit_test(test_forced_align),
		cmocka_unit_test(test_real_direct),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_neighbours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
