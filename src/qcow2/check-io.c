/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-io.c: the checker's reads.  Every table is read through here:
 * reads past the end of the file see zeros (as qemu does), offsets come
 * from hostile tables and are range-checked, and many small tables are
 * gathered into few large sequential reads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/log.h"
#include "check-int.h"

/* A corrupt image can have millions of bad entries: report the first ones. */
#define CHK_MAX_WARNINGS 200

void chk_warn(struct chk *c, const char *fmt, ...)
{
	static _Thread_local unsigned count;
	char msg[512];
	va_list ap;

	if (c == NULL) {
		count = 0;
		return;
	}
	if (count++ >= CHK_MAX_WARNINGS) {
		if (count == CHK_MAX_WARNINGS + 1)
			log_warn("check: further findings not shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_warn("check: %s", msg);
}

/* The offsets come from hostile tables: range-check, then read as the
 * engine does (zeros past the end of the file). */
int chk_read(struct chk *c, void *buf, size_t len, uint64_t off)
{
	uint64_t end;

	if (ADD_OVERFLOW(off, (uint64_t)len, &end) || end > INT64_MAX)
		return err_set(EIO, "read at 0x%llx (%zu bytes) out of range",
			       (unsigned long long)off, len);
	return qcow2_io_read(c->fd, buf, len, off);
}

static int cmp_table(const void *a, const void *b)
{
	const struct chk_table *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Number of tables, starting at t[0], that lie back to back and fit one read. */
static size_t run_length(const struct chk_table *t, size_t n, size_t size)
{
	size_t k = 1;

	while (k < n && (k + 1) * size <= CHK_IO_CHUNK && t[k].off == t[0].off + k * size)
		k++;
	return k;
}

int chk_read_tables(struct chk *c, struct chk_table *t, size_t n, size_t size,
		    chk_table_fn fn, void *opaque)
{
	size_t bufsz = MAX(size, (size_t)CHK_IO_CHUNK);
	CLEANUP_FREE uint8_t *buf = malloc(bufsz);

	if (buf == NULL)
		return err_set(ENOMEM, "out of memory for %zu bytes of tables", bufsz);
	qsort(t, n, sizeof *t, cmp_table);
	for (size_t i = 0; i < n;) {
		size_t k = run_length(t + i, n - i, size);
		if (chk_read(c, buf, k * size, t[i].off) < 0)
			return -1;
		for (size_t j = 0; j < k; j++)
			if (fn(c, buf + j * size, t[i + j].tag, opaque) < 0)
				return -1;
		i += k;
	}
	return 0;
}
