/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing an image over a longer backing file: the grown range reads
 * zeros (it did before), and a merge up into a smaller parent, killed at
 * any fault point and run again, leaves the parent reading exactly what
 * the child read, never the grandparent's data past the parent's old
 * end.  Kills are real: the merge runs in a forked process with
 * LVQCOW_FAULT_AT / LVQCOW_FAULT set, and dies by SIGKILL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lq/qcow2.h"

#define CL 4096u
#define NCL 16u
#define PSIZE (4u * CL + 2048u) /* the parent ends inside its cluster 4 */

static char dir[64], base[128], parent[128], child[128];

static void make(const char *path, uint64_t size, const char *backing)
{
	struct qcow2_create_opts o = { .size = size, .cluster_size = CL, .backing = backing,
				       .backing_fmt = backing ? "qcow2" : NULL };

	unlink(path);
	assert_int_equal(qcow2_create(path, &o), 0);
}

static struct qcow2_image *open_on(const char *path, const char *const *chain, size_t n, int fl)
{
	struct qcow2_backing b[2];
	struct qcow2_image *img;

	for (size_t i = 0; i < n; i++)
		b[i] = (struct qcow2_backing){ .path = chain[i] };
	assert_int_equal(qcow2_open_chain(path, b, n, fl, &img), 0);
	return img;
}

static void fill(const char *path, const char *const *chain, size_t n, const int *cl, size_t k,
		 int tag)
{
	struct qcow2_image *img = open_on(path, chain, n, QCOW2_OPEN_RDWR);
	uint8_t buf[CL];

	for (size_t i = 0; i < k; i++) {
		memset(buf, tag + cl[i], sizeof buf);
		assert_int_equal(qcow2_pwrite(img, buf, CL, (uint64_t)cl[i] * CL), 0);
	}
	assert_int_equal(qcow2_close(img), 0);
}

/* base: 16 clusters of 0xb0+c.  parent (4.5 clusters): cluster 0 0xa0.
 * child (16 clusters): clusters 1 and 10, 0xc0+c. */
static void make_chain(void)
{
	static const int all[NCL] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

	make(base, NCL * CL, NULL);
	fill(base, NULL, 0, all, NCL, 0xb0);
	make(parent, PSIZE, "base.qcow2");
	fill(parent, (const char *[]){ base }, 1, (const int[]){ 0 }, 1, 0xa0);
	make(child, NCL * CL, "parent.qcow2");
	fill(child, (const char *[]){ parent, base }, 2, (const int[]){ 1, 10 }, 2, 0xc0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/lq-grow-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof base, "%s/base.qcow2", dir);
	snprintf(parent, sizeof parent, "%s/parent.qcow2", dir);
	snprintf(child, sizeof child, "%s/child.qcow2", dir);
	make_chain();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	unsetenv("LVQCOW_FAULT_AT");
	unsetenv("LVQCOW_FAULT");
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

/* The child's view: its own clusters, the parent's, the base's up to the
 * parent's end, zeros past it. */
static int want(uint64_t off)
{
	uint64_t c = off / CL;

	if (c == 1 || c == 10)
		return 0xc0 + (int)c;
	if (c == 0)
		return 0xa0;
	return off < PSIZE ? 0xb0 + (int)c : 0;
}

static void expect_view(struct qcow2_image *img, const char *what)
{
	uint8_t buf[CL];

	assert_int_equal(qcow2_virtual_size(img), NCL * CL);
	for (uint64_t c = 0; c < NCL; c++) {
		assert_int_equal(qcow2_pread(img, buf, CL, c * CL), 0);
		for (uint64_t i = 0; i < CL; i += 512)
			if (buf[i] != want(c * CL + i)) {
				fprintf(stderr, "%s: byte %llu is 0x%02x, not 0x%02x\n", what,
					(unsigned long long)(c * CL + i), buf[i], want(c * CL + i));
				fail();
			}
	}
}

static int merge_up(void)
{
	struct qcow2_image *from, *into;
	int rc;

	if (qcow2_open(child, QCOW2_OPEN_NO_BACKING, &from) < 0)
		return -1;
	into = open_on(parent, (const char *[]){ base }, 1, QCOW2_OPEN_RDWR);
	rc = qcow2_merge(from, into, 0, NULL, NULL, NULL);
	if (qcow2_close(into) < 0)
		rc = -1;
	qcow2_close(from);
	return rc;
}

/* The merge in a child process with the fault variable set: true if a
 * fault point killed it. */
static bool killed_merge(const char *var, const char *val)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setenv(var, val, 1);
		_exit(merge_up() == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		assert_int_equal(WTERMSIG(status), SIGKILL);
		return true;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return false;
}

static void expect_parent(const char *what)
{
	struct qcow2_image *img = open_on(parent, (const char *[]){ base }, 1, 0);
	struct qcow2_check_result r;
	int rc;

	expect_view(img, what);
	assert_int_equal(qcow2_close(img), 0);
	rc = qcow2_check(parent, 0, &r);
	assert_true(rc == QCOW2_CHECK_CLEAN || rc == QCOW2_CHECK_LEAKS);
}

/* Growing over the longer base: cluster 4 keeps its first half from the
 * base, everything past the old end reads zeros. */
static void test_resize_zeroes(void **state)
{
	struct qcow2_image *img = open_on(parent, (const char *[]){ base }, 1, QCOW2_OPEN_RDWR);
	uint8_t buf[CL];

	(void)state;
	assert_int_equal(qcow2_resize(img, NCL * CL), 0);
	assert_int_equal(qcow2_close(img), 0);
	img = open_on(parent, (const char *[]){ base }, 1, 0);
	assert_int_equal(qcow2_pread(img, buf, CL, 4 * CL), 0);
	assert_int_equal(buf[0], 0xb4);
	assert_int_equal(buf[2047], 0xb4);
	assert_int_equal(buf[2048], 0);
	assert_int_equal(buf[CL - 1], 0);
	for (uint64_t c = 5; c < NCL; c++) {
		assert_int_equal(qcow2_pread(img, buf, CL, c * CL), 0);
		assert_int_equal(buf[0], 0);
		assert_int_equal(buf[CL - 1], 0);
	}
	assert_int_equal(qcow2_close(img), 0);
}

/* Killed between the zero entries and the new size: the parent still has
 * its old size on disk; the merge run again finishes it. */
static void test_killed_before_size(void **state)
{
	struct qcow2_image *img;

	(void)state;
	assert_true(killed_merge("LVQCOW_FAULT", "qcow2.resize.zeroed"));
	img = open_on(parent, (const char *[]){ base }, 1, 0);
	assert_int_equal(qcow2_virtual_size(img), PSIZE);
	assert_int_equal(qcow2_close(img), 0);
	assert_int_equal(merge_up(), 0);
	expect_parent("rerun after a kill before the size");
}

/* Killed at every fault point of the merge in turn, then run again. */
static void test_killed_anywhere(void **state)
{
	char n[16], what[64];
	int points = 0;

	(void)state;
	for (int i = 1; i < 200; i++) {
		snprintf(n, sizeof n, "%d", i);
		if (!killed_merge("LVQCOW_FAULT_AT", n))
			break;
		points++;
		assert_int_equal(merge_up(), 0);
		snprintf(what, sizeof what, "rerun after a kill at point %d", i);
		expect_parent(what);
		make_chain();
	}
	assert_true(points >= 3);
	expect_parent("a merge never killed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resize_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_before_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_anywhere, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
