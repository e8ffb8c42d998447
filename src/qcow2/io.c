/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.c: opening image files safely (with O_DIRECT when asked) and
 * whole-buffer pread/pwrite/fdatasync on their descriptors. */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "qcow2-int.h"

/* O_NONBLOCK so that a FIFO (or a device that blocks on open) fails at
 * once instead of hanging; the flag is dropped again for the data I/O. */
int qcow2_io_open(const char *path, bool rw, bool nofollow, bool direct)
{
	bool is_direct;
	int fd = dio_open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK |
			  (nofollow ? O_NOFOLLOW : 0), direct, &is_direct);
	struct stat st;

	if (fd < 0)
		return err_sys("open %s: %m", path);
	if (fstat(fd, &st) < 0) {
		err_sys("fstat %s: %m", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err_set(EINVAL, "%s: not a regular file or block device", path);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err_sys("fcntl %s: %m", path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int qcow2_io_read(int fd, void *buf, size_t len, uint64_t off)
{
	return dio_pread_full(fd, buf, len, off, 0);
}

int qcow2_io_write(int fd, const void *buf, size_t len, uint64_t off)
{
	return dio_pwrite_full(fd, buf, len, off, 0);
}

int qcow2_io_sync(int fd)
{
	if (fdatasync(fd) < 0)
		return err_sys("fdatasync: %m");
	return 0;
}

int qcow2_img_read(struct qcow2_image *img, void *buf, size_t len, uint64_t off)
{
	return dio_read(&img->dio, buf, len, off);
}

int qcow2_img_write(struct qcow2_image *img, const void *buf, size_t len, uint64_t off)
{
	return dio_write(&img->dio, buf, len, off);
}

uint64_t qcow2_io_size(int fd)
{
	struct stat st;
	off_t end;

	if (fstat(fd, &st) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return (uint64_t)st.st_size;
	end = lseek(fd, 0, SEEK_END);
	return end < 0 ? 0 : (uint64_t)end;
}
