/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dio.c: direct I/O with the alignment the kernel asks for (lq/dio.h). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/dio.h"
#include "lq/err.h"
#include "lq/log.h"

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif

/* Bounce buffers hold at most this much of a request at a time. */
#define DIO_CHUNK (1u << 20)
/* Alignments beyond this are not believed (a bogus statx answer). */
#define DIO_MAX_ALIGN (64u * 1024)

int dio_open(const char *path, int flags, bool direct, bool *is_direct)
{
	int fd;

	assert(!(flags & (O_CREAT | O_TMPFILE))); /* no mode is passed on */
	*is_direct = false;
	if (!direct)
		return open(path, flags);
	fd = open(path, flags | O_DIRECT);
	if (fd >= 0) {
		*is_direct = true;
		return fd;
	}
	if (errno != EINVAL)
		return -1;
	fd = open(path, flags);
	if (fd >= 0)
		log_warn("%s: the filesystem refuses direct I/O; using buffered I/O", path);
	return fd;
}

static bool pow2_ok(uint32_t a)
{
	return a && !(a & (a - 1)) && a <= DIO_MAX_ALIGN;
}

/* The kernel's rule for fd, or 4096 when it will not say. */
static void query_align(int fd, uint32_t *align, uint32_t *mem)
{
	struct statx sx;
	struct stat st;
	int ssz = 0;

	*align = *mem = DIO_DEFAULT_ALIGN;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKSSZGET, &ssz) == 0 && pow2_ok((uint32_t)ssz))
			*align = *mem = (uint32_t)ssz;
		return;
	}
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) < 0 ||
	    !(sx.stx_mask & STATX_DIOALIGN))
		return;
	if (pow2_ok(sx.stx_dio_offset_align))
		*align = sx.stx_dio_offset_align;
	if (pow2_ok(sx.stx_dio_mem_align))
		*mem = sx.stx_dio_mem_align;
}

void dio_init_align(struct dio *d, int fd, uint32_t align)
{
	assert(align == 0 || pow2_ok(align));
	d->fd = fd;
	d->align = align;
	d->mem_align = align;
	pthread_mutex_init(&d->rmw, NULL);
}

void dio_init(struct dio *d, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	dio_init_align(d, fd, 0);
	if (fl >= 0 && (fl & O_DIRECT))
		query_align(fd, &d->align, &d->mem_align);
}

void dio_destroy(struct dio *d)
{
	pthread_mutex_destroy(&d->rmw);
}

void *dio_alloc(size_t len)
{
	void *p = NULL;

	return posix_memalign(&p, DIO_DEFAULT_ALIGN, len ? len : 1) ? NULL : p;
}

static bool is_aligned(uint64_t v, uint32_t a)
{
	return (v & (a - 1)) == 0;
}

bool dio_aligned(const struct dio *d, const void *buf, size_t len, uint64_t off)
{
	return !d->align || (is_aligned(off, d->align) && is_aligned(len, d->align) &&
			     is_aligned((uintptr_t)buf, d->mem_align));
}

/* The system-call loops, shared with the qcow2 engine's plain descriptor
 * I/O (align 0).  With an alignment every call they make stays aligned:
 * only an aligned count may be carried on from. */
int dio_pread_full(int fd, void *buf, size_t len, uint64_t off, uint32_t align)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys("read of %zu bytes at 0x%llx: %m", len,
				       (unsigned long long)off);
		/* End of file: the rest reads as zeros.  A direct read stops
		 * there in mid-block, where it cannot go on. */
		if (r == 0 || (align && !is_aligned((uint64_t)r, align))) {
			memset(p + r, 0, len - (size_t)r);
			return 0;
		}
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int dio_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, uint32_t align)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = pwrite(fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys("write of %zu bytes at 0x%llx: %m", len,
				       (unsigned long long)off);
		/* pwrite returning 0 means no room: errno is stale here. */
		if (r == 0)
			return err_set(ENOSPC, "write of %zu bytes at 0x%llx: no space left",
				       len, (unsigned long long)off);
		/* A direct write cut in mid-block cannot be resumed there. */
		if (align && !is_aligned((uint64_t)r, align))
			return err_set(EIO, "write of %zu bytes at 0x%llx: cut short at %zd",
				       len, (unsigned long long)off, r);
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* The assertion catches a caller that broke the alignment rule, even on a
 * buffered descriptor a test gave an alignment. */
static int raw_read(struct dio *d, uint8_t *p, size_t len, uint64_t off)
{
	assert(dio_aligned(d, p, len, off));
	return dio_pread_full(d->fd, p, len, off, d->align);
}

static int raw_write(struct dio *d, const uint8_t *p, size_t len, uint64_t off)
{
	assert(dio_aligned(d, p, len, off));
	return dio_pwrite_full(d->fd, p, len, off, d->align);
}

/* One piece of a request through the bounce buffer: [lo, hi) is the
 * aligned span around the n bytes at off, and fits in DIO_CHUNK plus
 * two blocks. */
struct span {
	uint64_t off, lo, hi;
	size_t n;
};

static struct span span_of(const struct dio *d, size_t len, uint64_t off)
{
	struct span s = { .off = off, .lo = off & ~(uint64_t)(d->align - 1) };

	s.n = len < DIO_CHUNK ? len : DIO_CHUNK;
	s.hi = (off + s.n + d->align - 1) & ~(uint64_t)(d->align - 1);
	return s;
}

static uint8_t *bounce_alloc(const struct dio *d, size_t len)
{
	size_t n = (len < DIO_CHUNK ? len : DIO_CHUNK) + 2 * (size_t)d->align;
	void *p = NULL;
	size_t a = d->mem_align > DIO_DEFAULT_ALIGN ? d->mem_align : DIO_DEFAULT_ALIGN;

	if (posix_memalign(&p, a, n)) {
		err_set(ENOMEM, "out of memory");
		return NULL;
	}
	return p;
}

static int bounce_read(struct dio *d, uint8_t *buf, size_t len, uint64_t off)
{
	uint8_t *b = bounce_alloc(d, len);
	int rc = b ? 0 : -1;

	while (rc == 0 && len) {
		struct span s = span_of(d, len, off);

		rc = raw_read(d, b, s.hi - s.lo, s.lo);
		if (rc == 0)
			memcpy(buf, b + (s.off - s.lo), s.n);
		buf += s.n;
		len -= s.n;
		off += s.n;
	}
	free(b);
	return rc;
}

int dio_read(struct dio *d, void *buf, size_t len, uint64_t off)
{
	if (dio_aligned(d, buf, len, off))
		return raw_read(d, buf, len, off);
	return bounce_read(d, buf, len, off);
}

/* Fills the partly covered head and tail blocks of s from the file. */
static int rmw_edges(struct dio *d, uint8_t *b, const struct span *s)
{
	uint64_t tail = s->hi - d->align;
	bool head = s->off != s->lo;

	if (head && raw_read(d, b, d->align, s->lo) < 0)
		return -1;
	if (s->off + s->n != s->hi && !(head && tail == s->lo))
		return raw_read(d, b + (tail - s->lo), d->align, tail);
	return 0;
}

static int bounce_write(struct dio *d, const uint8_t *buf, size_t len, uint64_t off)
{
	uint8_t *b = bounce_alloc(d, len);
	int rc = b ? 0 : -1;

	while (rc == 0 && len) {
		struct span s = span_of(d, len, off);

		rc = rmw_edges(d, b, &s);
		if (rc == 0) {
			memcpy(b + (s.off - s.lo), buf, s.n);
			rc = raw_write(d, b, s.hi - s.lo, s.lo);
		}
		buf += s.n;
		len -= s.n;
		off += s.n;
	}
	free(b);
	return rc;
}

int dio_write(struct dio *d, const void *buf, size_t len, uint64_t off)
{
	int rc;

	if (dio_aligned(d, buf, len, off))
		return raw_write(d, buf, len, off);
	/* Only a partly covered block needs the lock: a misaligned buffer
	 * alone is copied, never merged with anyone's bytes. */
	if (is_aligned(off, d->align) && is_aligned(len, d->align))
		return bounce_write(d, buf, len, off);
	pthread_mutex_lock(&d->rmw);
	rc = bounce_write(d, buf, len, off);
	pthread_mutex_unlock(&d->rmw);
	return rc;
}
