/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log: stderr and syslog output (see include/lq/log.h).  Owns the debug
 * and trace switches, the escaping of logged text, the syslog transport
 * and the format of the per-call lines. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lq/log.h"

static const char *log_prog = "lvqcow";
static bool log_syslog = true;

/* A priority meaning "stderr only". */
#define LOG_NO_SYSLOG (-1)

/* How long a line waits for room in the syslog socket's queue. */
#define LOG_SYSLOG_WAIT_MS 200

/* The switches are read by every thread of the NBD server; pthread_once
 * reads the environment exactly once, and the atomics let a later
 * log_set_* be seen without a lock. */
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static atomic_bool log_debug_on;
static atomic_bool log_trace_flag;

static void log_read_env(void)
{
	atomic_store(&log_debug_on, getenv("LVQCOW_DEBUG") != NULL);
	atomic_store(&log_trace_flag, getenv("LVQCOW_TRACE") != NULL);
}

static bool env_is_zero(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "0");
}

void log_init(const char *prog)
{
	log_prog = prog;
	pthread_once(&log_once, log_read_env);
	log_syslog = !env_is_zero("LVQCOW_SYSLOG");
}

void log_set_debug(bool on)
{
	pthread_once(&log_once, log_read_env);
	atomic_store(&log_debug_on, on);
}

bool log_debug_enabled(void)
{
	pthread_once(&log_once, log_read_env);
	return atomic_load_explicit(&log_debug_on, memory_order_relaxed);
}

void log_set_trace(bool on)
{
	pthread_once(&log_once, log_read_env);
	atomic_store(&log_trace_flag, on);
}

bool log_trace_on(void)
{
	pthread_once(&log_once, log_read_env);
	return atomic_load_explicit(&log_trace_flag, memory_order_relaxed);
}

/* The escape of one byte, written to e (at least 5 bytes); its length. */
static size_t escape_byte(unsigned char c, char *e)
{
	static const char hex[] = "0123456789abcdef";
	const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
			  : c == '\\' ? "\\\\" : NULL;

	if (named) {
		memcpy(e, named, 3);
		return 2;
	}
	if (c >= 0x20 && c != 0x7f) {
		e[0] = (char)c;
		e[1] = '\0';
		return 1;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	e[4] = '\0';
	return 4;
}

char *log_escape(char *dst, size_t n, const char *src)
{
	size_t used = 0;

	for (const char *p = src; *p; p++) {
		char e[5];
		size_t k = escape_byte((unsigned char)*p, e);
		if (used + k >= n)
			break;
		memcpy(dst + used, e, k);
		used += k;
	}
	dst[used] = '\0';
	return dst;
}

/* ---- syslog ----------------------------------------------------------- */

/* Send one datagram on a socket connected to the syslog socket.  A full
 * queue gets one bounded wait (a connected datagram socket polls
 * writable when the reader has room), then the line is dropped: a stuck
 * syslog daemon must not stall a call. */
static void syslog_write(int fd, const char *dgram, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (send(fd, dgram, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0 || errno != EAGAIN)
		return;
	if (poll(&p, 1, LOG_SYSLOG_WAIT_MS) == 1)
		send(fd, dgram, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* One RFC 3164 datagram, as the local syslog socket takes it:
 * "<PRI>Mmm dd hh:mm:ss lvqcow[PID]: MSG".  A socket per message keeps
 * no descriptor across fork (the collector and the NBD server are forked
 * children) and needs no lock between threads. */
static void syslog_send(int prio, const char *msg)
{
	const char *path = getenv("LVQCOW_SYSLOG_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char stamp[32], dgram[LOG_LINE_MAX + 64];
	time_t now = time(NULL);
	struct tm tm;
	int fd;

	if (!path || !*path)
		path = "/dev/log";
	if (strlen(path) >= sizeof sa.sun_path)
		return;
	strcpy(sa.sun_path, path);
	if (!localtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm))
		return;
	if (snprintf(dgram, sizeof dgram, "<%d>%s %s[%d]: %s", LOG_DAEMON | prio, stamp,
		     LOG_SYSLOG_TAG, (int)getpid(), msg) < 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		syslog_write(fd, dgram, strlen(dgram));
	close(fd);
}

static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[2048], safe[4 * sizeof line], msg[sizeof safe + 64];

	vsnprintf(line, sizeof line, fmt, ap);
	log_escape(safe, sizeof safe, line);
	fprintf(stderr, "%s[%d]: %s: %s\n", log_prog, (int)getpid(), tag, safe);
	if (log_syslog && prio != LOG_NO_SYSLOG) {
		snprintf(msg, sizeof msg, "%s: %s: %s", log_prog, tag, safe);
		syslog_send(prio, msg);
	}
	errno = saved;
}

#define LOG_FN(name, prio, tag)                                                \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_emit(prio, tag, fmt, ap);                                  \
		va_end(ap);                                                    \
	}

LOG_FN(log_error, LOG_ERR, "error")
LOG_FN(log_warn, LOG_WARNING, "warning")
LOG_FN(log_info, LOG_INFO, "info")
LOG_FN(log_debug_at, LOG_DEBUG, "debug")
/* Per-request data-path lines stay on stderr (the server's log file): a
 * socket and a datagram per NBD request would flood the host's log. */
LOG_FN(log_trace_at, LOG_NO_SYSLOG, "trace")

/* ---- the per-call lines ------------------------------------------------- */

/* Escape one byte of a field: as log_escape, and also '"' (fields are
 * quoted) and every byte outside printable ASCII (a field may not yet be
 * checked as UTF-8, and a cut must not split a character). */
static size_t field_byte(unsigned char c, char *e)
{
	if (c == '"' || c >= 0x7f) {
		snprintf(e, 5, "\\x%02x", c);
		return 4;
	}
	return escape_byte(c, e);
}

char *log_field(char *dst, size_t n, const char *src)
{
	size_t used = 0;

	assert(n > sizeof LOG_FIELD_CUT);
	for (const char *p = src; *p; p++) {
		char e[5];
		size_t k = field_byte((unsigned char)*p, e);
		if (used + k + sizeof LOG_FIELD_CUT > n) {
			memcpy(dst + used, LOG_FIELD_CUT, sizeof LOG_FIELD_CUT);
			return dst;
		}
		memcpy(dst + used, e, k);
		used += k;
	}
	dst[used] = '\0';
	return dst;
}

/* Append ` name="value"` (escaped, cut at max bytes) when value is set. */
static void call_field(char *line, size_t n, const char *name, const char *value, size_t max)
{
	char buf[LOG_FIELD_MAX];
	size_t used = strlen(line);

	if (!value)
		return;
	assert(max <= sizeof buf);
	log_field(buf, max, value);
	snprintf(line + used, n - used, " %s=\"%s\"", name, buf);
}

static void call_fields(char *line, size_t n, const struct log_call *c)
{
	call_field(line, n, "dbg", c->dbg, LOG_DBG_MAX);
	call_field(line, n, "sr", c->sr, LOG_FIELD_MAX);
	call_field(line, n, "key", c->key, LOG_KEY_MAX);
	call_field(line, n, "uri", c->uri, LOG_FIELD_MAX);
}

void log_call_start(const struct log_call *c)
{
	char line[LOG_LINE_MAX];
	int saved = errno;

	if (!log_syslog)
		return;
	snprintf(line, sizeof line, "call %s start", c->name);
	call_fields(line, sizeof line, c);
	syslog_send(LOG_INFO, line);
	errno = saved;
}

void log_call_end(const struct log_call *c, const char *code, const char *name,
		  const char *msg)
{
	char line[LOG_LINE_MAX];
	size_t used;
	int saved = errno;

	if (!log_syslog)
		return;
	snprintf(line, sizeof line, "call %s end", c->name);
	call_fields(line, sizeof line, c);
	used = strlen(line);
	snprintf(line + used, sizeof line - used, " result=%s ms=%" PRId64,
		 code ? "error" : "ok", c->ms);
	if (code) {
		call_field(line, sizeof line, "code", code, LOG_KEY_MAX);
		call_field(line, sizeof line, "error", name, LOG_KEY_MAX);
		call_field(line, sizeof line, "msg", msg, LOG_FIELD_MAX);
	}
	syslog_send(code ? LOG_ERR : LOG_INFO, line);
	errno = saved;
}
