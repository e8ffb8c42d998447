/* io.c: whole-buffer pread/pwrite/fdatasync on image descriptors. */
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "qcow2-int.h"

int qcow2_io_read(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys("read of %zu bytes at 0x%llx: %s", len,
				       (unsigned long long)off, strerror(errno));
		if (r == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int qcow2_io_write(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = pwrite(fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_sys("write of %zu bytes at 0x%llx: %s", len,
				       (unsigned long long)off, strerror(r < 0 ? errno : ENOSPC));
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int qcow2_io_sync(int fd)
{
	if (fdatasync(fd) < 0)
		return err_sys("fdatasync: %s", strerror(errno));
	return 0;
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
