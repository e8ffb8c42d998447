/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend-raw: a raw file or block device as the export.  Holes come
 * from SEEK_DATA/SEEK_HOLE; zeroing and trimming use fallocate.  Reads
 * and writes go through lq/dio.h, aligned when the file is open O_DIRECT. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/dio.h"
#include "lq/err.h"
#include "nbd-int.h"

/* The descriptor with its direct I/O alignment (lq/dio.h). */
static struct dio *raw_dio(struct nbd_backend *b)
{
	return b->priv;
}

static int raw_fd(struct nbd_backend *b)
{
	return raw_dio(b)->fd;
}

/* A file shorter than the export reads as zeros past its end. */
static int raw_pread(struct nbd_backend *b, void *buf, uint64_t len, uint64_t off)
{
	return dio_read(raw_dio(b), buf, len, off);
}

static int raw_pwrite(struct nbd_backend *b, const void *buf, uint64_t len, uint64_t off)
{
	return dio_write(raw_dio(b), buf, len, off);
}

#define RAW_ZEROS 65536

static int raw_write_zeros(struct nbd_backend *b, uint64_t off, uint64_t len)
{
	uint8_t *zeros = dio_alloc(RAW_ZEROS);
	int rc = zeros ? 0 : err_set(ENOMEM, "out of memory");

	if (zeros)
		memset(zeros, 0, RAW_ZEROS);
	while (rc == 0 && len) {
		uint64_t n = MIN(len, (uint64_t)RAW_ZEROS);

		rc = raw_pwrite(b, zeros, n, off);
		off += n, len -= n;
	}
	free(zeros);
	return rc;
}

static int raw_zero(struct nbd_backend *b, uint64_t off, uint64_t len, bool may_unmap, bool fast)
{
	int mode = may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			     : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;

	if (fallocate(raw_fd(b), mode, (off_t)off, (off_t)len) == 0)
		return 0;
	if (fast)
		return err_set(ENOTSUP, "raw: zeroing %llu+%llu is not fast here",
			       (unsigned long long)off, (unsigned long long)len);
	return raw_write_zeros(b, off, len);
}

/* Trim is advisory: a filesystem without hole punching keeps the data. */
static int raw_trim(struct nbd_backend *b, uint64_t off, uint64_t len)
{
	fallocate(raw_fd(b), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	return 0;
}

static int raw_flush(struct nbd_backend *b)
{
	if (fdatasync(raw_fd(b)) < 0)
		return err_sys("raw: fdatasync: %m");
	return 0;
}

/* One run starting at off: data up to the next hole, or a hole up to
 * the next data.  Without SEEK_DATA support everything is data. */
static uint64_t raw_run(int fd, uint64_t off, uint64_t end, uint32_t *flags)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;

	if (d < 0 && errno == ENXIO)
		d = (off_t)end;
	if (d < 0)
		return *flags = 0, end - off;
	if ((uint64_t)d > off) {
		*flags = NBD_STATE_HOLE | NBD_STATE_ZERO;
		return MIN((uint64_t)d, end) - off;
	}
	h = lseek(fd, (off_t)off, SEEK_HOLE);
	*flags = 0;
	return h < 0 ? end - off : MIN((uint64_t)h, end) - off;
}

static int raw_block_status(struct nbd_backend *b, uint64_t off, uint64_t len,
			    struct nbd_extent *ext, int max)
{
	uint64_t end = off + len;
	int n = 0;

	while (off < end && n < max) {
		uint32_t flags;
		uint64_t l = raw_run(raw_fd(b), off, end, &flags);
		if (!l)
			l = end - off;
		ext[n++] = (struct nbd_extent){ .off = off, .len = l, .flags = flags };
		off += l;
	}
	return n;
}

static int raw_close(struct nbd_backend *b)
{
	int r = raw_flush(b);

	close(raw_fd(b));
	dio_destroy(raw_dio(b));
	free(raw_dio(b));
	return r;
}

static const struct nbd_backend_ops raw_ops = {
	.pread = raw_pread,
	.pwrite = raw_pwrite,
	.zero = raw_zero,
	.trim = raw_trim,
	.flush = raw_flush,
	.block_status = raw_block_status,
	.close = raw_close,
};

static int raw_size(int fd, const char *path, uint64_t *size)
{
	struct stat st;
	off_t end;

	if (fstat(fd, &st) < 0)
		return err_sys("%s: stat: %m", path);
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if ((end = lseek(fd, 0, SEEK_END)) < 0)
		return err_sys("%s: size: %m", path);
	*size = (uint64_t)end;
	return 0;
}

int nbd_backend_open_raw(const char *path, bool readonly, bool direct, struct nbd_backend *b)
{
	bool is_direct;
	struct dio *d = malloc(sizeof *d);
	int fd = -1;

	if (!d)
		return err_set(ENOMEM, "out of memory");
	fd = dio_open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC, direct, &is_direct);
	if (fd < 0) {
		err_sys("%s: open: %m", path);
		goto fail;
	}
	if (raw_size(fd, path, &b->size) < 0)
		goto fail;
	dio_init(d, fd);
	b->ops = &raw_ops;
	b->priv = d;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(d);
	return -1;
}
