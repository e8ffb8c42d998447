/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2_trim: clusters freed at the end of the file are given back, the
 * image reads the same afterwards and takes new writes; nothing is cut
 * while the tail is in use, and a read-only image is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/qcow2.h"

#define CL 65536u
#define VSIZE (64u * CL)

static char path[] = "/tmp/lq-test-trim.XXXXXX";

static uint64_t file_size(void)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static struct qcow2_image *fresh(void)
{
	struct qcow2_create_opts o = { .size = VSIZE, .cluster_size = CL };
	struct qcow2_image *img;
	uint8_t buf[CL];

	unlink(path);
	assert_int_equal(qcow2_create(path, &o), 0);
	assert_int_equal(qcow2_open(path, QCOW2_OPEN_RDWR, &img), 0);
	for (unsigned c = 0; c < 8; c++) {
		memset(buf, 0x40 + (int)c, sizeof buf);
		assert_int_equal(qcow2_pwrite(img, buf, CL, (uint64_t)c * CL), 0);
	}
	assert_int_equal(qcow2_flush(img), 0);
	return img;
}

static void expect_cluster(struct qcow2_image *img, unsigned c, int byte)
{
	uint8_t buf[CL], want[CL];

	memset(want, byte, sizeof want);
	assert_int_equal(qcow2_pread(img, buf, CL, (uint64_t)c * CL), 0);
	assert_memory_equal(buf, want, CL);
}

/* The last four data clusters freed: their space goes, the rest stays. */
static void test_tail_freed(void **s)
{
	struct qcow2_image *img = fresh();
	struct qcow2_info in;
	uint64_t before, freed;

	before = file_size();
	assert_int_equal(qcow2_pzero(img, 4 * CL, 4 * CL, QCOW2_ZERO_MAY_UNMAP), 0);
	assert_int_equal(qcow2_trim(img, &freed), 0);
	assert_int_equal(qcow2_get_info(img, &in), 0);
	assert_int_equal(file_size(), in.image_end_offset);
	assert_int_equal(freed, before - in.image_end_offset);
	assert_true(freed >= 4 * CL);
	for (unsigned c = 0; c < 4; c++)
		expect_cluster(img, c, 0x40 + (int)c);
	for (unsigned c = 4; c < 8; c++)
		expect_cluster(img, c, 0);
	/* New data lands past the cut and reads back after a reopen. */
	uint8_t buf[CL];
	memset(buf, 0x77, sizeof buf);
	assert_int_equal(qcow2_pwrite(img, buf, CL, 40 * CL), 0);
	assert_int_equal(qcow2_close(img), 0);
	assert_int_equal(qcow2_open(path, 0, &img), 0);
	expect_cluster(img, 40, 0x77);
	expect_cluster(img, 3, 0x43);
	assert_int_equal(qcow2_close(img), 0);
}

/* Only the middle freed: the end is in use, nothing is cut. */
static void test_tail_in_use(void **s)
{
	struct qcow2_image *img = fresh();
	uint64_t before = file_size(), freed = 1;

	assert_int_equal(qcow2_pzero(img, 2 * CL, 2 * CL, QCOW2_ZERO_MAY_UNMAP), 0);
	assert_int_equal(qcow2_trim(img, &freed), 0);
	assert_int_equal(freed, 0);
	assert_true(file_size() >= before);
	expect_cluster(img, 7, 0x47);
	assert_int_equal(qcow2_close(img), 0);
}

static void test_read_only(void **s)
{
	struct qcow2_image *img;
	uint64_t freed;

	qcow2_close(fresh());
	assert_int_equal(qcow2_open(path, 0, &img), 0);
	assert_int_equal(qcow2_trim(img, &freed), -1);
	assert_int_equal(err_errnum(), EINVAL);
	assert_int_equal(qcow2_close(img), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail_freed),
		cmocka_unit_test(test_tail_in_use),
		cmocka_unit_test(test_read_only),
	};
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
