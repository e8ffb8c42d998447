/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of util/log: escaping keeps one event on one line, and the
 * debug and trace switches come from the environment, once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lq/log.h"

static void test_escape(void **state __attribute__((unused)))
{
	char out[64];

	assert_string_equal(log_escape(out, sizeof out, "/sr/a\nb"), "/sr/a\\nb");
	assert_string_equal(log_escape(out, sizeof out, "t\tr\r\\"), "t\\tr\\r\\\\");
	assert_string_equal(log_escape(out, sizeof out, "\x01\x1b[2J\x7f"), "\\x01\\x1b[2J\\x7f");
	assert_string_equal(log_escape(out, sizeof out, "ünï"), "ünï");
	/* truncation never cuts an escape in half */
	assert_string_equal(log_escape(out, 5, "ab\ncd"), "ab\\n");
	assert_string_equal(log_escape(out, 4, "ab\ncd"), "ab");
	assert_string_equal(log_escape(out, 1, "abc"), "");
}

/* Call fields are quoted: '"' and non-ASCII bytes are escaped too, and a
 * value that does not fit is cut at a whole escape and marked. */
static void test_field(void **state __attribute__((unused)))
{
	char out[16];

	assert_string_equal(log_field(out, sizeof out, "a\"b\n"), "a\\x22b\\n");
	assert_string_equal(log_field(out, sizeof out, "\xc3\xa9"), "\\xc3\\xa9");
	assert_string_equal(log_field(out, sizeof out, "0123456789ab"), "0123456789ab");
	assert_string_equal(log_field(out, sizeof out, "0123456789abcdef"), "0123456789ab...");
	assert_string_equal(log_field(out, 8, "ab\x01" "cdef"), "ab...");
	assert_string_equal(log_field(out, 5, "abcdef"), "a...");
}

/* Run fn with stderr going to a file; returns what it wrote. */
static char *capture(void (*fn)(void))
{
	static char buf[16384];
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(f);
	fflush(stderr);
	dup2(fileno(f), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void log_hostile(void)
{
	log_error("SR %s: %s", "/srv/a\nlvqcow[1]: error: forged", "x\r\x1b");
}

static void test_one_line(void **state __attribute__((unused)))
{
	const char *out = capture(log_hostile);

	assert_non_null(strstr(out, ": error: SR /srv/a\\nlvqcow[1]: error: forged: x\\r\\x1b\n"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

static void trace_something(void)
{
	log_trace("request %d", 7);
}

static void test_trace_switch(void **state __attribute__((unused)))
{
	/* main() set LVQCOW_TRACE before the first use */
	assert_true(log_trace_on());
	assert_false(log_debug_enabled());
	assert_non_null(strstr(capture(trace_something), ": trace: request 7\n"));
	log_set_trace(false);
	assert_false(log_trace_on());
	assert_string_equal(capture(trace_something), "");
	log_set_trace(true);
}

/* Syslog gets info lines as one datagram each, facility daemon, tag
 * lvqcow; trace lines (one per NBD request) stay on stderr. */
static void info_and_trace(void)
{
	log_trace("request %d", 8);
	log_info("hello %s", "syslog");
}

static void test_syslog(void **state __attribute__((unused)))
{
	char dir[] = "/tmp/lq-test-log.XXXXXX", buf[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ssize_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/log", dir);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	setenv("LVQCOW_SYSLOG_SOCKET", sa.sun_path, 1);
	capture(info_and_trace);
	unsetenv("LVQCOW_SYSLOG_SOCKET");
	n = recv(fd, buf, sizeof buf - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "<30>", 4); /* LOG_DAEMON | LOG_INFO */
	assert_non_null(strstr(buf, " lvqcow["));
	assert_non_null(strstr(buf, ": info: hello syslog"));
	assert_int_equal(recv(fd, buf, sizeof buf, 0), -1); /* no trace datagram */
	close(fd);
	unlink(sa.sun_path);
	rmdir(dir);
}

static void *ask(void *arg)
{
	for (int i = 0; i < 10000; i++)
		if (log_debug_enabled() || !log_trace_on())
			return arg;
	return NULL;
}

/* Many threads read the switches at once and all see the environment's
 * values (the first of them reads it for all). */
static void test_threads(void **state __attribute__((unused)))
{
	static int failed;
	pthread_t t[8];
	void *r;

	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, ask, &failed), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_trace_switch),
		cmocka_unit_test(test_syslog),
	};

	setenv("LVQCOW_TRACE", "1", 1);
	unsetenv("LVQCOW_DEBUG");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
