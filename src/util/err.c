/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* err: thread-local record of the last failure (see include/lq/err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lq/err.h"
#include "lq/log.h"

static _Thread_local struct err_record last;

int err_set_at(const char *file, int line, int errnum, const char *code,
	       const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	last.errnum = errnum ? errnum : EIO;
	last.file = file;
	last.line = line;
	snprintf(last.code, sizeof last.code, "%s", code ? code : "");
	errno = saved; /* for %m */
	va_start(ap, fmt);
	vsnprintf(last.msg, sizeof last.msg, fmt, ap);
	va_end(ap);
	log_debug("error recorded at %s:%d: %s", file, line, last.msg);
	errno = saved;
	return -1;
}

const struct err_record *err_last(void)
{
	return &last;
}

void err_restore(const struct err_record *r)
{
	if (r != &last)
		last = *r;
}

void err_clear(void)
{
	memset(&last, 0, sizeof last);
}

void err_first_note(struct err_first *f)
{
	if (!f->failed) {
		f->rec = last;
		f->failed = true;
	}
}

int err_first_end(const struct err_first *f)
{
	if (!f->failed) {
		err_clear();
		return 0;
	}
	err_restore(&f->rec);
	return -1;
}

int err_errnum(void)
{
	return last.errnum ? last.errnum : EIO;
}
