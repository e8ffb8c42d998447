/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log: messages to stderr (which xapi-storage-script logs) and syslog.
 *
 * Errors and warnings always go out; debug lines only when LVQCOW_DEBUG is
 * set in the environment (or log_set_debug).  Data-path tracing has its
 * own switch, LVQCOW_TRACE (or log_set_trace), so control-path logs stay
 * readable: log_trace() lines are for the NBD server's per-request path,
 * which asks log_trace_on(); the server is a child of the datapath call
 * and inherits the environment.  Both switches are read once,
 * thread-safely, on first use, and are cheap to ask from any thread.
 *
 * One event is one line: control characters, and the backslash that
 * introduces an escape, are written as \n, \r, \t, \\ or \xHH, so a
 * string from outside (an SR path holding a newline) cannot forge or
 * split a line.  The functions keep errno unchanged.
 *
 * Syslog: every line but the trace lines also goes to the local syslog
 * socket (/dev/log, or LVQCOW_SYSLOG_SOCKET), facility daemon, tag
 * "lvqcow", message "<prog>: <level>: <text>", unless LVQCOW_SYSLOG=0.
 * Sending never blocks for long; with no syslog daemon the lines are
 * dropped.
 *
 * Call lines (syslog only; stderr is what xapi-storage-script expects and
 * stays as it was): the rpc layer logs each SMAPIv3 call once as it starts
 * and once as it ends, with the dbg string xapi passed so that a call can
 * be followed from xapi's log into ours:
 *   call Volume.stat start dbg="..." sr="..." key="..."
 *   call Volume.stat end dbg="..." sr="..." key="..." result=ok ms=3
 *   call Volume.stat end dbg="..." ... result=error ms=2 code="SR_BACKEND_FAILURE"
 *        error="Volume_does_not_exist" msg="..."
 * Field values are quoted; '"', '\\', control characters and non-ASCII
 * bytes are escaped (\xHH, \n...), and a value longer than its limit is
 * cut and ends in "...".
 */
#ifndef LQ_LOG_H
#define LQ_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_SYSLOG_TAG "lvqcow"
#define LOG_LINE_MAX 4096  /* one syslog message */
#define LOG_FIELD_MAX 640  /* an escaped call field (sr, uri, msg) */
#define LOG_DBG_MAX 320    /* the escaped dbg string */
#define LOG_KEY_MAX 160    /* an escaped key or error code */
#define LOG_FIELD_CUT "..."

void log_init(const char *prog);
void log_set_debug(bool on);
bool log_debug_enabled(void);
void log_set_trace(bool on);
bool log_trace_on(void);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug_at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_trace_at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Escape src as a log line holds it (see above) into dst of size n
 * (n >= 1), truncating at a whole escape; returns dst. */
char *log_escape(char *dst, size_t n, const char *src);

/* One SMAPIv3 call: its wire name, the fields present (NULL: absent) and,
 * for the end line, how long it took. */
struct log_call {
	const char *name;
	const char *dbg, *sr, *key, *uri;
	int64_t ms;
};

void log_call_start(const struct log_call *c);
/* code NULL: success; else the xapi error code printed, the error's name
 * (the IDL exception, or NULL) and its message. */
void log_call_end(const struct log_call *c, const char *code, const char *name,
		  const char *msg);
/* Escape src as a call field into dst of size n (> sizeof LOG_FIELD_CUT),
 * cutting it with LOG_FIELD_CUT when it does not fit; returns dst. */
char *log_field(char *dst, size_t n, const char *src);

#define log_debug(...)                                                         \
	do {                                                                   \
		if (__builtin_expect(log_debug_enabled(), 0))                  \
			log_debug_at(__VA_ARGS__);                             \
	} while (0)

#define log_trace(...)                                                         \
	do {                                                                   \
		if (__builtin_expect(log_trace_on(), 0))                       \
			log_trace_at(__VA_ARGS__);                             \
	} while (0)

#endif
