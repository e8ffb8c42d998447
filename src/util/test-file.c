/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of util/file: the whole-descriptor reader at its size
 * limit (the reader of the files and of a call's stdin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/file.h"

/* A pipe holding n bytes of 'x', write end closed. */
static int pipe_of(size_t n)
{
	int p[2];
	char buf[8192];

	assert_true(n <= sizeof buf);
	assert_int_equal(pipe(p), 0);
	memset(buf, 'x', n);
	assert_int_equal(write(p[1], buf, n), (ssize_t)n);
	close(p[1]);
	return p[0];
}

static int read_n(size_t n, size_t max, size_t *len)
{
	int fd = pipe_of(n);
	char *buf = NULL;
	int rc;

	err_clear();
	rc = file_read_fd(fd, "pipe", max, &buf, len);
	close(fd);
	if (rc == 0) {
		assert_int_equal(strlen(buf), *len);
		free(buf);
	}
	return rc;
}

static void test_read_limit(void **state __attribute__((unused)))
{
	size_t len = 1;

	assert_int_equal(read_n(0, 100, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(read_n(100, 100, &len), 0);
	assert_int_equal(len, 100);
	assert_int_equal(read_n(101, 100, &len), -1);
	assert_int_equal(err_last()->errnum, EFBIG);
	/* across the growth steps of the buffer */
	assert_int_equal(read_n(8192, 8192, &len), 0);
	assert_int_equal(len, 8192);
	assert_int_equal(read_n(8192, 8191, &len), -1);
	assert_int_equal(err_last()->errnum, EFBIG);
}

static void test_read_error(void **state __attribute__((unused)))
{
	char *buf = NULL;
	size_t len;

	err_clear();
	assert_int_equal(file_read_fd(-1, "nothing", 10, &buf, &len), -1);
	assert_int_equal(err_last()->errnum, EBADF);
	assert_non_null(strstr(err_last()->msg, "read nothing: Bad file descriptor"));
	assert_null(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_limit),
		cmocka_unit_test(test_read_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
