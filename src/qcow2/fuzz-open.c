/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-open: libFuzzer target for the whole engine on a hostile image.
 * The input is the image file.  It is opened read-only (info, map, block
 * status and reads of bounded ranges), then it is opened read-write and a
 * pattern written and flushed: it must read back, also after a reopen
 * (a write that landed on metadata would break that); then it is zeroed,
 * discarded, resized and flushed.  The backing chain is never opened (names in
 * the input would reach outside the fuzzer's files). */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lq/qcow2.h"

#define WINDOW (4u << 20)

static int to_memfd(const uint8_t *d, size_t n, char *path, size_t plen)
{
	int fd = memfd_create("fuzz-img", 0);

	if (fd < 0)
		return -1;
	if (n && write(fd, d, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	snprintf(path, plen, "/proc/self/fd/%d", fd);
	return fd;
}

static void explore(struct qcow2_image *img)
{
	uint64_t vs = qcow2_virtual_size(img), len = vs < WINDOW ? vs : WINDOW;
	struct qcow2_map_entry m[64];
	struct qcow2_extent x[64];
	struct qcow2_chain_extent c[16];
	struct qcow2_info in;
	uint8_t *buf = malloc(WINDOW);

	if (vs <= (1ull << 30))
		qcow2_get_info(img, &in);
	qcow2_map(img, 0, len, m, 64);
	qcow2_block_status(img, 0, len, x, 64);
	qcow2_map_chain(img, 0, len, c, 16);
	if (buf && len)
		qcow2_pread(img, buf, len, 0);
	if (buf && vs > 4096)
		qcow2_pread(img, buf, 4096, vs - 4096);
	free(buf);
}

#define PATTERN_LEN 3000

static uint64_t pattern_off(uint64_t vs)
{
	return vs > 70000 ? 65000 : 0;
}

/* Write a pattern and flush; true when both succeeded (then it must read
 * back, now and after a reopen: metadata the write overwrote would not). */
static bool write_pattern(struct qcow2_image *img)
{
	uint64_t vs = qcow2_virtual_size(img), off = pattern_off(vs);
	uint8_t w[PATTERN_LEN], r[PATTERN_LEN];

	if (vs < sizeof w)
		return false;
	memset(w, 0xa5, sizeof w);
	if (qcow2_pwrite(img, w, sizeof w, off) < 0 || qcow2_flush(img) < 0)
		return false;
	if (qcow2_pread(img, r, sizeof r, off) == 0)
		assert(!memcmp(w, r, sizeof w));
	return true;
}

static void check_pattern(const char *path)
{
	struct qcow2_image *img;
	uint8_t w[PATTERN_LEN], r[PATTERN_LEN];

	memset(w, 0xa5, sizeof w);
	assert(qcow2_open(path, QCOW2_OPEN_NO_BACKING, &img) == 0);
	assert(qcow2_pread(img, r, sizeof r, pattern_off(qcow2_virtual_size(img))) == 0);
	assert(!memcmp(w, r, sizeof w));
	qcow2_close(img);
}

static void write_more(struct qcow2_image *img)
{
	uint64_t vs = qcow2_virtual_size(img), off = pattern_off(vs);
	uint8_t r[100];

	if (vs < PATTERN_LEN)
		return;
	qcow2_pzero(img, 0, vs < 200000 ? vs / 2 : 100000, 0);
	qcow2_discard(img, 0, vs < WINDOW ? vs : WINDOW);
	if (qcow2_pzero(img, off, 100, QCOW2_ZERO_MAY_UNMAP) == 0 &&
	    qcow2_pread(img, r, 100, off) == 0)
		for (int i = 0; i < 100; i++)
			assert(r[i] == 0);
	qcow2_resize(img, vs + 65536);
	qcow2_set_hidden(img, true);
	qcow2_flush(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char path[64];
	struct qcow2_image *img;
	int fd = to_memfd(d, n, path, sizeof path);

	if (fd < 0)
		return 0;
	if (qcow2_open(path, QCOW2_OPEN_NO_BACKING, &img) == 0) {
		explore(img);
		qcow2_close(img);
	}
	if (qcow2_open(path, QCOW2_OPEN_NO_BACKING | QCOW2_OPEN_RDWR, &img) == 0) {
		bool written = write_pattern(img);

		if (qcow2_close(img) == 0 && written)
			check_pattern(path);
	}
	if (qcow2_open(path, QCOW2_OPEN_NO_BACKING | QCOW2_OPEN_RDWR, &img) == 0) {
		write_more(img);
		qcow2_close(img);
	}
	close(fd);
	return 0;
}
