/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening backing chains: the caller's chain is used exactly and header
 * names are never followed by qcow2_open_chain; qcow2_open confines
 * header names to the image's directory; FIFOs and symbolic links named
 * by headers fail at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/qcow2.h"

#define VSIZE (1u << 20)

static char dir[64], sub[128];

static char *in(const char *d, const char *name)
{
	static char paths[64][256];
	static int next;
	char *p = paths[next++ % 64];

	snprintf(p, sizeof paths[0], "%s/%s", d, name);
	return p;
}

/* A raw file of VSIZE bytes, all `fill`. */
static void make_raw(const char *path, int fill)
{
	static uint8_t buf[VSIZE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	memset(buf, fill, sizeof buf);
	assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);
}

static void make_qcow2(const char *path, const char *backing, const char *fmt)
{
	struct qcow2_create_opts o = { .size = VSIZE, .cluster_size = 4096,
				       .backing = backing, .backing_fmt = fmt };

	unlink(path);
	assert_int_equal(qcow2_create(path, &o), 0);
}

static int first_byte(struct qcow2_image *img)
{
	uint8_t b;

	assert_int_equal(qcow2_pread(img, &b, 1, 4096), 0);
	return b;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/lq-chain-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/sr", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	make_raw(in(dir, "outside"), 0x5e);
	make_raw(in(sub, "base"), 0xba);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

/* Whatever the header names, the chain given is the one read. */
static void test_chain_ignores_header_names(void **state)
{
	const char *names[] = { "/etc/passwd", "../outside", "../../outside", "base" };
	struct qcow2_backing chain[] = { { in(sub, "base"), true } };
	struct qcow2_image *img;

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		make_qcow2(in(sub, "top"), names[i], i == 0 ? "qcow2" : "raw");
		if (qcow2_open_chain(in(sub, "top"), chain, 1, QCOW2_OPEN_RDWR, &img) < 0)
			fail_msg("%s", err_last()->msg);
		assert_int_equal(first_byte(img), 0xba);
		assert_int_equal(qcow2_close(img), 0);
	}
}

/* qcow2_open refuses names that leave the directory unless asked. */
static void test_open_confines_header_names(void **state)
{
	struct qcow2_image *img;

	(void)state;
	make_qcow2(in(sub, "top"), "../outside", "raw");
	assert_int_equal(qcow2_open(in(sub, "top"), 0, &img), -1);
	assert_int_equal(err_errnum(), EPERM);
	assert_null(img);
	make_qcow2(in(sub, "top"), in(dir, "outside"), "raw");
	assert_int_equal(qcow2_open(in(sub, "top"), 0, &img), -1);
	assert_int_equal(err_errnum(), EPERM);
	assert_int_equal(qcow2_open(in(sub, "top"), QCOW2_OPEN_ANY_BACKING, &img), 0);
	assert_int_equal(first_byte(img), 0x5e);
	qcow2_close(img);
	make_qcow2(in(sub, "top"), "base", "raw");
	assert_int_equal(qcow2_open(in(sub, "top"), 0, &img), 0);
	assert_int_equal(first_byte(img), 0xba);
	qcow2_close(img);
}

/* Commit opens the parent for writing: the same confinement applies. */
static void test_commit_confined(void **state)
{
	(void)state;
	make_qcow2(in(dir, "parent"), NULL, NULL);
	make_qcow2(in(sub, "top"), "../parent", "qcow2");
	assert_int_equal(qcow2_commit(in(sub, "top"), 0, NULL, NULL), -1);
	assert_int_equal(err_errnum(), EPERM);
	assert_int_equal(qcow2_commit(in(sub, "top"), QCOW2_OPEN_ANY_BACKING, NULL, NULL), 0);
}

/* A symbolic link named by a header is not followed. */
static void test_header_symlink_refused(void **state)
{
	struct qcow2_image *img;

	(void)state;
	assert_int_equal(symlink(in(dir, "outside"), in(sub, "link")), 0);
	make_qcow2(in(sub, "top"), "link", "raw");
	assert_int_equal(qcow2_open(in(sub, "top"), 0, &img), -1);
	assert_int_equal(err_errnum(), ELOOP);
	unlink(in(sub, "link"));
}

/* FIFOs and directories fail at once wherever they appear (a blocking
 * open would hang this test). */
static void test_fifo_refused(void **state)
{
	struct qcow2_backing fifo[] = { { in(sub, "fifo"), true } };
	struct qcow2_backing dirb[] = { { sub, false } };
	struct qcow2_image *img;

	(void)state;
	assert_int_equal(mkfifo(in(sub, "fifo"), 0644), 0);
	assert_int_equal(qcow2_open_chain(in(sub, "fifo"), NULL, 0, 0, &img), -1);
	assert_int_equal(err_errnum(), EINVAL);
	assert_int_equal(qcow2_open(in(sub, "fifo"), QCOW2_OPEN_RDWR, &img), -1);
	make_qcow2(in(sub, "top"), "fifo", "raw");
	assert_int_equal(qcow2_open_chain(in(sub, "top"), fifo, 1, 0, &img), -1);
	assert_int_equal(qcow2_open(in(sub, "top"), 0, &img), -1);
	assert_int_equal(err_errnum(), EINVAL);
	assert_int_equal(qcow2_open_chain(in(sub, "top"), dirb, 1, 0, &img), -1);
	assert_null(img);
	unlink(in(sub, "fifo"));
}

/* The chain must end where the headers say it ends; raw is the bottom. */
static void test_chain_shape(void **state)
{
	struct qcow2_backing two[] = { { in(sub, "mid"), false }, { in(sub, "base"), true } };
	struct qcow2_backing raw_mid[] = { { in(sub, "base"), true }, { in(sub, "mid"), false } };
	struct qcow2_image *img;

	(void)state;
	make_qcow2(in(sub, "mid"), "anything", "raw");
	make_qcow2(in(sub, "top"), "whatever", "qcow2");
	assert_int_equal(qcow2_open_chain(in(sub, "top"), two, 2, 0, &img), 0);
	assert_int_equal(first_byte(img), 0xba);
	qcow2_close(img);
	assert_int_equal(qcow2_open_chain(in(sub, "top"), NULL, 0, 0, &img), -1);
	assert_int_equal(qcow2_open_chain(in(sub, "top"), two, 1, 0, &img), -1);
	assert_int_equal(qcow2_open_chain(in(sub, "top"), raw_mid, 2, 0, &img), -1);
	assert_int_equal(err_errnum(), EINVAL);
	make_qcow2(in(sub, "top"), NULL, NULL);
	assert_int_equal(qcow2_open_chain(in(sub, "top"), two, 2, 0, &img), -1);
	assert_int_equal(qcow2_open_chain(in(sub, "top"), NULL, 0, 0, &img), 0);
	assert_int_equal(first_byte(img), 0);
	qcow2_close(img);
}

/* The top image itself is a loop member too. */
static void test_chain_loop(void **state)
{
	struct qcow2_backing self[] = { { in(sub, "top"), false } };
	struct qcow2_image *img;

	(void)state;
	make_qcow2(in(sub, "top"), "top", "qcow2");
	assert_int_equal(qcow2_open_chain(in(sub, "top"), self, 1, 0, &img), -1);
	assert_int_equal(err_errnum(), ELOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_ignores_header_names),
		cmocka_unit_test(test_open_confines_header_names),
		cmocka_unit_test(test_commit_confined),
		cmocka_unit_test(test_header_symlink_refused),
		cmocka_unit_test(test_fifo_refused),
		cmocka_unit_test(test_chain_shape),
		cmocka_unit_test(test_chain_loop),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
