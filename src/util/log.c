/* log: stderr and syslog output (see include/lq/log.h).  Owns the debug
 * and trace switches and the escaping of logged text. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "lq/log.h"

static const char *log_prog = "lvqcow";
static bool log_syslog;

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

void log_init(const char *prog)
{
	log_prog = prog;
	pthread_once(&log_once, log_read_env);
	log_syslog = getenv("LVQCOW_SYSLOG") != NULL;
	if (log_syslog)
		openlog(prog, LOG_PID, LOG_LOCAL2);
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

static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[2048], safe[4 * sizeof line];

	vsnprintf(line, sizeof line, fmt, ap);
	log_escape(safe, sizeof safe, line);
	fprintf(stderr, "%s[%d]: %s: %s\n", log_prog, (int)getpid(), tag, safe);
	if (log_syslog)
		syslog(prio, "%s: %s", tag, safe);
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
LOG_FN(log_trace_at, LOG_DEBUG, "trace")
