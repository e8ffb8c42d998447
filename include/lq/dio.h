/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dio: positioned whole-buffer I/O on a descriptor that may be open with
 * O_DIRECT.
 *
 * Owns the alignment rules of direct I/O for the engines (src/qcow2 and
 * the raw NBD backend): opening with O_DIRECT and falling back to buffered
 * I/O (logged) where the filesystem refuses it, finding the alignment the
 * kernel requires (BLKSSZGET for a block device, statx STATX_DIOALIGN for
 * a file, 4096 when neither answers), and turning any request into
 * aligned system calls.  A request whose offset, length or buffer is not
 * aligned goes through an aligned bounce buffer; a write that covers a
 * block only partly reads that block, patches it and writes it back
 * (read-modify-write).  Every read-modify-write of one struct dio is
 * serialised by its mutex, so two writers of neighbouring bytes in one
 * block never undo each other.  The callers' rule that makes this enough:
 * a write that is aligned covers only bytes its caller owns; bytes shared
 * with anyone else lie in a partly covered block, which only a
 * read-modify-write rewrites.
 *
 * With align == 0 (buffered) the calls are plain pread/pwrite loops.
 * Reads past the end of the file return zeros.  Failures are recorded
 * with err_set (lq/err.h) and return -1.
 */
#ifndef LQ_DIO_H
#define LQ_DIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIO_DEFAULT_ALIGN 4096u

struct dio {
	int fd;
	uint32_t align;      /* offset/length alignment; 0: buffered */
	uint32_t mem_align;  /* buffer address alignment; 0: buffered */
	pthread_mutex_t rmw; /* serialises read-modify-write */
};

/* open(2) of an existing file (flags without O_CREAT) with flags |
 * O_DIRECT when direct; where the filesystem refuses
 * O_DIRECT (EINVAL) opens without it and logs that once for this open.
 * *is_direct tells which happened.  Returns the descriptor or -1 with
 * errno set (nothing recorded: the caller names the file). */
int dio_open(const char *path, int flags, bool direct, bool *is_direct);
/* Sets d up for fd: align 0 unless fd is open with O_DIRECT. */
void dio_init(struct dio *d, int fd);
/* Sets d up with the alignment given (tests; a power of two or 0). */
void dio_init_align(struct dio *d, int fd, uint32_t align);
void dio_destroy(struct dio *d);

int dio_read(struct dio *d, void *buf, size_t len, uint64_t off);
int dio_write(struct dio *d, const void *buf, size_t len, uint64_t off);

/* Whole-buffer pread/pwrite loops on fd (EINTR retried).  A read past
 * the end of the file (or cut in mid-block when align != 0) fills the
 * rest with zeros; a write that makes no progress is ENOSPC, one cut in
 * mid-block with align != 0 is EIO.  With align != 0, buf, len and off
 * must already be aligned. */
int dio_pread_full(int fd, void *buf, size_t len, uint64_t off, uint32_t align);
int dio_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, uint32_t align);

/* A buffer aligned for direct I/O (free with free()); NULL on ENOMEM. */
void *dio_alloc(size_t len);
/* Whether a request needs the bounce path. */
bool dio_aligned(const struct dio *d, const void *buf, size_t len, uint64_t off);

#endif
