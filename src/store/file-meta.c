/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/file-meta: the metadata area of a directory SR, the regular file
 * <SR dir>/lvqcow-sr.meta.  meta does all I/O inside it; this file only
 * opens it relative to the SR directory's descriptor (never following a
 * link, refusing anything but a regular file) and publishes a new one
 * atomically at SR.create: written and synced as lvqcow-sr.meta.tmp,
 * renamed, directory synced. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "lq/xerr.h"
#include "file-meta.h"

static bool is_regular(int root_fd, const char *name)
{
	struct stat sb;

	return fstatat(root_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

/* The old single-document layout counts as an SR so that it is refused
 * clearly at open instead of being taken for an empty directory. */
bool file_meta_present(int root_fd)
{
	return is_regular(root_fd, FILE_META_AREA) || is_regular(root_fd, FILE_META_OLD);
}

static int open_fail(int root_fd, const char *root)
{
	if (errno == ENOENT && is_regular(root_fd, FILE_META_OLD))
		return err_xapi(XERR_SR_NOT_EXIST,
				"%s holds an SR of the old single-document format (%s), which "
				"this version does not read", root, FILE_META_OLD);
	if (errno == ENOENT)
		return err_xapi(XERR_SR_NOT_EXIST, "%s", root);
	if (errno == ELOOP)
		return err_corrupt("%s/%s is a symlink: refused", root, FILE_META_AREA);
	return err_sys("open %s/%s: %m", root, FILE_META_AREA);
}

int file_meta_open(int root_fd, const char *root, bool writable, int *fd)
{
	struct stat sb;
	int flags = (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;

	*fd = openat(root_fd, FILE_META_AREA, flags);
	if (*fd < 0)
		return open_fail(root_fd, root);
	if (fstat(*fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(*fd);
		*fd = -1;
		return err_corrupt("%s/%s is not a regular file", root, FILE_META_AREA);
	}
	return 0;
}

static int fill_and_sync(int fd, const char *root, int (*fill)(int fd, void *arg), void *arg)
{
	if (fill(fd, arg) < 0)
		return -1;
	if (fsync(fd) < 0)
		return err_sys("fsync %s/%s: %m", root, FILE_META_TMP);
	return 0;
}

int file_meta_build(int root_fd, const char *root, int (*fill)(int fd, void *arg), void *arg)
{
	int fd, rc;

	if (unlinkat(root_fd, FILE_META_TMP, 0) < 0 && errno != ENOENT)
		return err_sys("unlink %s/%s: %m", root, FILE_META_TMP);
	fd = openat(root_fd, FILE_META_TMP, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys("create %s/%s: %m", root, FILE_META_TMP);
	rc = fill_and_sync(fd, root, fill, arg);
	close(fd);
	if (rc == 0 && renameat(root_fd, FILE_META_TMP, root_fd, FILE_META_AREA) < 0)
		rc = err_sys("rename %s/%s: %m", root, FILE_META_TMP);
	if (rc < 0) {
		unlinkat(root_fd, FILE_META_TMP, 0);
		return -1;
	}
	fault_point("sr-create.area-renamed");
	if (fsync(root_fd) < 0)
		return err_sys("fsync %s: %m", root);
	return 0;
}
