/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file: whole-file reads and atomic replacement (see lq/file.h). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/file.h"

/* Grow the buffer for one more read; the buffer may hold max + 1 bytes,
 * so a source of exactly max bytes is read whole and one byte more is
 * seen as too large. */
static int grow(char **p, size_t *cap, size_t max, const char *what)
{
	size_t ncap = *cap ? *cap * 2 : 4096;
	char *q;

	assert(max < SIZE_MAX / 4);
	if (ncap > max)
		ncap = max + 1;
	if (*cap > max)
		return err_set(EFBIG, "%s: larger than %zu bytes", what, max);
	q = realloc(*p, ncap + 1);
	if (!q)
		return err_set(ENOMEM, "reading %s: out of memory", what);
	*p = q;
	*cap = ncap;
	return 0;
}

int file_read_fd(int fd, const char *what, size_t max, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	char *p = NULL;

	for (;;) {
		ssize_t r;
		if (n == cap && grow(&p, &cap, max, what) < 0)
			goto fail;
		r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_sys("read %s: %m", what);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		err_set(EFBIG, "%s: larger than %zu bytes", what, max);
		goto fail;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
fail:
	free(p);
	return -1;
}

int file_read_all(const char *path, size_t max, char **buf, size_t *len)
{
	CLEANUP_CLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_sys("open %s: %m", path);
	return file_read_fd(fd, path, max, buf, len);
}

int file_write_full(int fd, const void *buf, size_t len, const char *what)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_sys("write %s: %m", what);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int file_sync_parent(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
		return err_set(ENAMETOOLONG, "path too long: %.64s...", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys("open directory of %s: %m", path);
	if (fsync(fd) < 0) {
		err_sys("fsync directory of %s: %m", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int write_temp(const char *tmp, const void *buf, size_t len, int mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0)
		return err_sys("create %s: %m", tmp);
	if (file_write_full(fd, buf, len, tmp) < 0)
		goto fail;
	if (fsync(fd) < 0) {
		err_sys("fsync %s: %m", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_sys("close %s: %m", tmp);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int file_write_atomic(const char *path, const void *buf, size_t len, int mode)
{
	char tmp[PATH_MAX];

	/* The pid keeps concurrent writers (which callers should prevent with
	 * a lock anyway) from clobbering each other's temporary file. */
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
		return err_set(ENAMETOOLONG, "path too long: %.64s...", path);
	unlink(tmp); /* a leftover of a crashed process with our pid */
	if (write_temp(tmp, buf, len, mode) < 0)
		return -1;
	fault_point("atomic-write.before-rename");
	if (rename(tmp, path) < 0) {
		err_sys("rename %s to %s: %m", tmp, path);
		unlink(tmp);
		return -1;
	}
	return file_sync_parent(path);
}
