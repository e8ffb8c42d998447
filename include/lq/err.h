/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* err: the one error convention of the whole tree.
 *
 * A failing function records one message where the failure is found (with
 * its context: object, offset, value) and returns -1; its callers return -1
 * too without touching the record.  Entry points turn the record into the
 * xapi error JSON or an NBD error.  The record is thread-local, so the NBD
 * server's workers do not trample each other.
 *
 * `code` is the xapi error code the failure maps to (for example
 * "Volume_does_not_exist" or "SR_BACKEND_FAILURE_79").  Library code that
 * knows nothing of xapi leaves it NULL; the rpc layer then reports
 * SR_BACKEND_FAILURE with the message.  `errnum` is an errno value telling
 * the kind of failure (EIO, EINVAL, ENOSPC, EUCLEAN for corrupt metadata,
 * ENOTSUP for unsupported features) so that NBD can answer with it.
 *
 * Text: a system failure's message ends with ": %m" (errno as it was
 * when the failure was found; never strerror()).  The record is logged
 * once, by whoever ends the operation (the entry point: rpc_main, the
 * CLI, the NBD server); code that passes -1 up does not log it, and code
 * that swallows a failure logs it as a warning where it swallows it.
 */
#ifndef LQ_ERR_H
#define LQ_ERR_H

#include <errno.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#include <stdbool.h>

#define ERR_MSG_MAX 1024
#define ERR_CODE_MAX 64

struct err_record {
	int errnum;
	char code[ERR_CODE_MAX];
	char msg[ERR_MSG_MAX];
	const char *file;
	int line;
};

int err_set_at(const char *file, int line, int errnum, const char *code,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Record a failure of kind errnum; evaluates to -1. */
#define err_set(errnum, ...) err_set_at(__FILE__, __LINE__, (errnum), NULL, __VA_ARGS__)
/* Record a failure with an explicit xapi error code; evaluates to -1. */
#define err_xapi(code, ...) err_set_at(__FILE__, __LINE__, EINVAL, (code), __VA_ARGS__)
/* Record a failure from errno; the message ends with ": %m". */
#define err_sys(...) err_set_at(__FILE__, __LINE__, errno ? errno : EIO, NULL, __VA_ARGS__)
/* Corrupt on-disk metadata. */
#define err_corrupt(...) err_set_at(__FILE__, __LINE__, EUCLEAN, NULL, __VA_ARGS__)

const struct err_record *err_last(void);
/* Put back a record saved from err_last() (after best-effort cleanup
 * that may have recorded failures of its own). */
void err_restore(const struct err_record *r);
void err_clear(void);

/* Steps that all run whatever fails among them, and report the first
 * failure: err_first_note right after each failed step, err_first_end
 * once all ran (0, or -1 with the first failure as the last error). */
struct err_first {
	bool failed;
	struct err_record rec;
};
void err_first_note(struct err_first *f);
int err_first_end(const struct err_first *f);
/* errno-like value of the last failure, never 0. */
int err_errnum(void);

#endif
