/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file: whole-file reads and crash-safe replacement of small files.
 *
 * file_write_atomic is the commit primitive of the directory store and
 * of the runtime records: the new content goes to a temporary file in the
 * same directory, is fsynced, renamed over the old name and the directory
 * is fsynced, so after a crash the name holds either the old or the new
 * content, never a mix. */
#ifndef LQ_FILE_H
#define LQ_FILE_H

#include <stddef.h>

/* Read the whole file into a NUL-terminated malloc'd buffer; fails with
 * EFBIG beyond max bytes.  *len excludes the added NUL. */
int file_read_all(const char *path, size_t max, char **buf, size_t *len);
/* The same for an open descriptor, read to its end; `what` names it in
 * errors. */
int file_read_fd(int fd, const char *what, size_t max, char **buf, size_t *len);
/* Replace path with buf atomically (see above); mode for a new file. */
int file_write_atomic(const char *path, const void *buf, size_t len, int mode);
/* fsync the directory holding path (after a create, rename or unlink). */
int file_sync_parent(const char *path);
/* Write all of buf at the current offset, retrying short writes. */
int file_write_full(int fd, const void *buf, size_t len, const char *what);

#endif
