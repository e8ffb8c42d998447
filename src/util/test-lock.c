/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of util/lock: bounded waits, and a waiting writer that
 * readers arriving after it do not overtake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/lock.h"

static char path[] = "/tmp/lq-test-lock.XXXXXX";

static int open_lock(void)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

struct writer {
	int fd, rc;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	w->rc = lock_wait(w->fd, true, 10000, "test");
	return NULL;
}

static void test_timeout(void **s)
{
	int a = open_lock(), b = open_lock();

	assert_int_equal(lock_wait(a, true, 100, "test"), 0);
	assert_int_equal(lock_wait(b, false, 50, "test"), -1);
	assert_int_equal(err_errnum(), ETIMEDOUT);
	close(a);
	assert_int_equal(lock_wait(b, false, 50, "test"), 0);
	close(b);
}

static void test_readers_share(void **s)
{
	int a = open_lock(), b = open_lock();

	assert_int_equal(lock_wait(a, false, 50, "test"), 0);
	assert_int_equal(lock_wait(b, false, 50, "test"), 0);
	close(a);
	close(b);
}

/* Reader 1 holds the lock; a writer waits; reader 2 arrives and must
 * wait behind the writer (flock alone would let it in at once). */
static void test_writer_not_overtaken(void **s)
{
	int r1 = open_lock(), r2 = open_lock(), r3;
	struct writer w = { .fd = open_lock(), .rc = 1 };
	pthread_t t;

	assert_int_equal(lock_wait(r1, false, 50, "test"), 0);
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	usleep(200 * 1000);
	assert_int_equal(lock_wait(r2, false, 300, "test"), -1);
	assert_int_equal(err_errnum(), ETIMEDOUT);
	close(r1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 0);
	close(w.fd);
	/* The writer is gone with its announcement: readers go in again. */
	r3 = open_lock();
	assert_int_equal(lock_wait(r3, false, 50, "test"), 0);
	assert_int_equal(lock_wait(r2, false, 50, "test"), 0);
	close(r2);
	close(r3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_readers_share),
		cmocka_unit_test(test_writer_not_overtaken),
	};
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
