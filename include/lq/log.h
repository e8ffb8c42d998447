/* log: messages to stderr (which xapi-storage-script logs) and syslog.
 *
 * Errors and warnings always go out; debug lines only when LVQCOW_DEBUG is
 * set in the environment (or log_set_debug).  Data-path tracing in the NBD
 * server has its own switch so control-path logs stay readable.  The
 * functions keep errno unchanged.
 */
#ifndef LQ_LOG_H
#define LQ_LOG_H

#include <stdbool.h>

void log_init(const char *prog);
void log_set_debug(bool on);
bool log_debug_enabled(void);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug_at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_debug(...)                                                         \
	do {                                                                   \
		if (__builtin_expect(log_debug_enabled(), 0))                  \
			log_debug_at(__VA_ARGS__);                             \
	} while (0)

#endif
