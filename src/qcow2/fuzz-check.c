/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-check: libFuzzer target for the checker.  Each input is an image
 * file: it is checked read-only, then checked with full repair on a copy
 * (the repair writes new refcount structures into the copy).  Neither may
 * crash, leak or read out of bounds whatever the bytes are; a repair that
 * reports a clean image must leave one that checks clean again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lq/qcow2.h"

/* Keep the copies small: a fuzzed refcount table could ask for huge files. */
#define FUZZ_MAX_FILE (64u << 20)

static int image_fd(const uint8_t *data, size_t size, char *path, size_t n)
{
	int fd = memfd_create("fuzz-check", 0);

	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, n, "/proc/self/fd/%d", fd);
	return fd;
}

static void check_copy(const uint8_t *data, size_t size, int flags)
{
	struct qcow2_check_result r;
	char path[64];
	int fd = image_fd(data, size, path, sizeof path);
	int rc;

	if (fd < 0)
		return;
	rc = qcow2_check(path, flags, &r);
	if (flags && rc == QCOW2_CHECK_CLEAN && lseek(fd, 0, SEEK_END) <= FUZZ_MAX_FILE &&
	    qcow2_check(path, 0, &r) != QCOW2_CHECK_CLEAN)
		abort();        /* a repair claimed success but left damage behind */
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_copy(data, size, 0);
	check_copy(data, size, QCOW2_REPAIR_LEAKS | QCOW2_REPAIR_ALL);
	return 0;
}
