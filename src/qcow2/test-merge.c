/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2_merge in both directions: a child committed into its parent (the
 * child wins) and a parent streamed under its child (the child's own
 * clusters win); zeros mask what lies below; a dry run counts the bytes
 * each direction would copy and writes nothing; the chain's view never
 * changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/qcow2.h"

#define CL 4096u
#define VSIZE (16u * CL)

static char dir[64], base[128], parent[128], child[128];

/* base: every cluster 0xb0.  parent: clusters 0, 1 data 0xa0+c, 2 zero.
 * child: clusters 1, 3 data 0xc0+c, 4 zero. */
static void make(const char *path, const char *backing)
{
	struct qcow2_create_opts o = { .size = VSIZE, .cluster_size = CL, .backing = backing,
				       .backing_fmt = backing ? "qcow2" : NULL };

	unlink(path);
	assert_int_equal(qcow2_create(path, &o), 0);
}

static void fill(const char *path, const char *const *chain, size_t n, const int *clusters,
		 size_t k, int tag, int zero)
{
	struct qcow2_backing b[2];
	struct qcow2_image *img;
	uint8_t buf[CL];

	for (size_t i = 0; i < n; i++)
		b[i] = (struct qcow2_backing){ .path = chain[i] };
	assert_int_equal(qcow2_open_chain(path, b, n, QCOW2_OPEN_RDWR, &img), 0);
	for (size_t i = 0; i < k; i++) {
		memset(buf, tag + clusters[i], sizeof buf);
		assert_int_equal(qcow2_pwrite(img, buf, CL, (uint64_t)clusters[i] * CL), 0);
	}
	if (zero >= 0)
		assert_int_equal(qcow2_pzero(img, (uint64_t)zero * CL, CL, 0), 0);
	assert_int_equal(qcow2_close(img), 0);
}

static int setup(void **state)
{
	static const int all[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	const char *pb[1], *cb[2];

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/lq-merge-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof base, "%s/base.qcow2", dir);
	snprintf(parent, sizeof parent, "%s/parent.qcow2", dir);
	snprintf(child, sizeof child, "%s/child.qcow2", dir);
	make(base, NULL);
	fill(base, NULL, 0, all, 16, 0xb0 - 0, -1);
	make(parent, "base.qcow2");
	pb[0] = base;
	fill(parent, pb, 1, (const int[]){ 0, 1 }, 2, 0xa0, 2);
	make(child, "parent.qcow2");
	cb[0] = parent;
	cb[1] = base;
	fill(child, cb, 2, (const int[]){ 1, 3 }, 2, 0xc0, 4);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

/* What a reader of the whole chain sees at each cluster. */
static const int want[16] = { 0xa0, 0xc1, 0, 0xc3, 0, 0xb5, 0xb6, 0xb7,
			      0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf };

static void expect_view(const char *top, const char *const *chain, size_t n)
{
	struct qcow2_backing b[2];
	struct qcow2_image *img;
	uint8_t buf[CL];

	for (size_t i = 0; i < n; i++)
		b[i] = (struct qcow2_backing){ .path = chain[i] };
	assert_int_equal(qcow2_open_chain(top, b, n, 0, &img), 0);
	for (int c = 0; c < 16; c++) {
		assert_int_equal(qcow2_pread(img, buf, CL, (uint64_t)c * CL), 0);
		assert_int_equal(buf[0], want[c]);
		assert_int_equal(buf[CL - 1], want[c]);
	}
	assert_int_equal(qcow2_close(img), 0);
}

static void open_pair(struct qcow2_image **from, const char *fpath, struct qcow2_image **into,
		      const char *ipath, const char *const *ichain, size_t n)
{
	struct qcow2_backing b[2];

	for (size_t i = 0; i < n; i++)
		b[i] = (struct qcow2_backing){ .path = ichain[i] };
	assert_int_equal(qcow2_open(fpath, QCOW2_OPEN_NO_BACKING, from), 0);
	assert_int_equal(qcow2_open_chain(ipath, b, n, QCOW2_OPEN_RDWR, into), 0);
}

static void test_dry_run_counts(void **state)
{
	struct qcow2_image *from, *into;
	uint64_t up = 0, down = 0;

	(void)state;
	open_pair(&from, child, &into, parent, (const char *[]){ base }, 1);
	assert_int_equal(qcow2_merge(from, into, QCOW2_MERGE_DRY_RUN, NULL, NULL, &up), 0);
	assert_int_equal(qcow2_close(from), 0);
	assert_int_equal(qcow2_close(into), 0);
	open_pair(&from, parent, &into, child, (const char *[]){ parent, base }, 2);
	assert_int_equal(qcow2_merge(from, into, QCOW2_MERGE_UNDER | QCOW2_MERGE_DRY_RUN, NULL,
				     NULL, &down), 0);
	assert_int_equal(qcow2_close(from), 0);
	assert_int_equal(qcow2_close(into), 0);
	assert_int_equal(up, 2 * CL);   /* the child's clusters 1 and 3 */
	assert_int_equal(down, 1 * CL); /* the parent's cluster 0 (1 is masked) */
	expect_view(child, (const char *[]){ parent, base }, 2);
}

/* Child into parent: the parent alone then reads as the whole pair. */
static void test_up(void **state)
{
	struct qcow2_image *from, *into;
	uint64_t n = 0;

	(void)state;
	open_pair(&from, child, &into, parent, (const char *[]){ base }, 1);
	assert_int_equal(qcow2_merge(from, into, 0, NULL, NULL, &n), 0);
	assert_int_equal(qcow2_close(from), 0);
	assert_int_equal(qcow2_close(into), 0);
	assert_int_equal(n, 2 * CL);
	expect_view(child, (const char *[]){ parent, base }, 2); /* unchanged meanwhile */
	expect_view(parent, (const char *[]){ base }, 1);
}

/* Parent under child: the child on the base reads as the whole pair. */
static void test_down(void **state)
{
	struct qcow2_image *from, *into;
	uint64_t n = 0;

	(void)state;
	open_pair(&from, parent, &into, child, (const char *[]){ parent, base }, 2);
	assert_int_equal(qcow2_merge(from, into, QCOW2_MERGE_UNDER, NULL, NULL, &n), 0);
	assert_int_equal(qcow2_close(from), 0);
	assert_int_equal(qcow2_close(into), 0);
	assert_int_equal(n, 1 * CL);
	expect_view(child, (const char *[]){ parent, base }, 2);
	expect_view(child, (const char *[]){ base }, 1);
	/* Rerunning a finished merge changes nothing. */
	open_pair(&from, parent, &into, child, (const char *[]){ parent, base }, 2);
	assert_int_equal(qcow2_merge(from, into, QCOW2_MERGE_UNDER, NULL, NULL, &n), 0);
	assert_int_equal(qcow2_close(from), 0);
	assert_int_equal(qcow2_close(into), 0);
	assert_int_equal(n, 0);
	expect_view(child, (const char *[]){ base }, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dry_run_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
