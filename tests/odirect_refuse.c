/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A preload library for the tests: open() with O_DIRECT fails with
 * EINVAL, as on a filesystem without direct I/O, so the fallback to
 * buffered I/O can be exercised on any filesystem. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

typedef int (*open_fn)(const char *, int, ...);

static int refuse(const char *sym, const char *path, int flags, va_list ap)
{
	open_fn real = (open_fn)dlsym(RTLD_NEXT, sym);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;

	if (flags & O_DIRECT) {
		errno = EINVAL;
		return -1;
	}
	return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	int r;

	va_start(ap, flags);
	r = refuse("open", path, flags, ap);
	va_end(ap);
	return r;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	int r;

	va_start(ap, flags);
	r = refuse("open64", path, flags, ap);
	va_end(ap);
	return r;
}
