/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img-io.c: guest data commands: read, write, zero, discard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img.h"
#include "lq/err.h"
#include "lq/qcow2.h"

#define CHUNK (4u << 20)

static int parse_range(const char *cmd, char **argv, uint64_t *off, uint64_t *len)
{
	if (img_parse_size(argv[0], off) < 0 || img_parse_size(argv[1], len) < 0)
		return img_usage(cmd, "invalid offset or length");
	return 0;
}

static int write_out(const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_sys("write to stdout: %m");
		if (w == 0)
			return err_set(EIO, "write to stdout: no progress");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int copy_out(struct qcow2_image *img, uint8_t *buf, uint64_t off, uint64_t len)
{
	while (len) {
		uint64_t n = len < CHUNK ? len : CHUNK;

		if (qcow2_pread(img, buf, n, off) < 0 || write_out(buf, n) < 0)
			return img_fail("read");
		off += n;
		len -= n;
	}
	return 0;
}

int img_read(int argc, char **argv)
{
	struct qcow2_image *img;
	uint64_t off, len;
	uint8_t *buf;
	int rc;

	if (argc != 4)
		return img_usage("read", "expected FILE OFFSET LENGTH");
	if ((rc = parse_range("read", argv + 2, &off, &len)) != 0)
		return rc;
	img = img_open("read", argv[1], 0);
	if (!img)
		return 1;
	buf = malloc(CHUNK);
	rc = buf ? copy_out(img, buf, off, len) : img_usage("read", "out of memory");
	free(buf);
	return img_close("read", img, rc);
}

/* Fill buf from stdin; returns the bytes read (short only at EOF). */
static ssize_t read_in(uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(STDIN_FILENO, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys("read from stdin: %m");
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int copy_in(struct qcow2_image *img, uint8_t *buf, uint64_t off)
{
	for (;;) {
		ssize_t n = read_in(buf, CHUNK);

		if (n < 0 || (n > 0 && qcow2_pwrite(img, buf, (uint64_t)n, off) < 0))
			return img_fail("write");
		if ((size_t)n < CHUNK)
			return 0;
		off += (uint64_t)n;
	}
}

int img_write(int argc, char **argv)
{
	struct qcow2_image *img;
	uint64_t off;
	uint8_t *buf;
	int rc;

	if (argc != 3)
		return img_usage("write", "expected FILE OFFSET");
	if (img_parse_size(argv[2], &off) < 0)
		return img_usage("write", "invalid offset");
	img = img_open("write", argv[1], QCOW2_OPEN_RDWR);
	if (!img)
		return 1;
	buf = malloc(CHUNK);
	rc = buf ? copy_in(img, buf, off) : img_usage("write", "out of memory");
	free(buf);
	return img_close("write", img, rc);
}

static int range_cmd(const char *cmd, int argc, char **argv, bool discard)
{
	int flags = 0, rc;
	struct qcow2_image *img;
	uint64_t off, len;

	if (!discard && argc == 5 && !strcmp(argv[1], "--unmap")) {
		flags = QCOW2_ZERO_MAY_UNMAP;
		argc--;
		argv++;
	}
	if (argc != 4)
		return img_usage(cmd, "expected FILE OFFSET LENGTH");
	if ((rc = parse_range(cmd, argv + 2, &off, &len)) != 0)
		return rc;
	img = img_open(cmd, argv[1], QCOW2_OPEN_RDWR);
	if (!img)
		return 1;
	if (discard)
		rc = qcow2_discard(img, off, len) < 0 ? img_fail(cmd) : 0;
	else
		rc = qcow2_pzero(img, off, len, flags) < 0 ? img_fail(cmd) : 0;
	return img_close(cmd, img, rc);
}

int img_zero(int argc, char **argv)
{
	return range_cmd("zero", argc, argv, false);
}

int img_discard(int argc, char **argv)
{
	return range_cmd("discard", argc, argv, true);
}
