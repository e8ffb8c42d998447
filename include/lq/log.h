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
 */
#ifndef LQ_LOG_H
#define LQ_LOG_H

#include <stdbool.h>
#include <stddef.h>

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
