/* log: stderr and syslog output (see include/lq/log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "lq/log.h"

static const char *log_prog = "lvqcow";
static int log_debug_on = -1;
static bool log_syslog;

void log_init(const char *prog)
{
	log_prog = prog;
	log_syslog = getenv("LVQCOW_SYSLOG") != NULL;
	if (log_syslog)
		openlog(prog, LOG_PID, LOG_LOCAL2);
}

void log_set_debug(bool on)
{
	log_debug_on = on;
}

bool log_debug_enabled(void)
{
	if (log_debug_on < 0)
		log_debug_on = getenv("LVQCOW_DEBUG") != NULL;
	return log_debug_on;
}

static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	fprintf(stderr, "%s[%d]: %s: %s\n", log_prog, (int)getpid(), tag, line);
	if (log_syslog)
		syslog(prio, "%s: %s", tag, line);
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
