/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serve: "lvqcow serve", the NBD server daemon of one active volume.
 * Without --foreground it detaches, and the parent returns only once
 * the sockets listen (status 0), setup failed (status 1, message on
 * stderr) or did not end within the start timeout (the server is killed,
 * SERVE_EXIT_NOT_READY), so a caller can connect as soon as it returns. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lq/clock.h"
#include "lq/err.h"
#include "lq/log.h"
#include "lq/nbd.h"
#include "lq/proc.h"

struct serve_args {
	struct nbd_server_opts o;
	const char *backing[NBD_MAX_CHAIN];
	bool foreground;
	const char *log;
	const char *sr_type, *sr;
	const char *args_from, *caller;
	int caller_pid;                  /* --caller, once checked */
	unsigned long long caller_start;
	char *rescue[8];
};

static int serve_usage(FILE *f)
{
	fprintf(f, "usage: lvqcow serve --socket PATH --export NAME [--control PATH]\n"
		   "         [--readonly] [--pidfile FILE] [--foreground] [--log FILE]\n"
		   "         [--threads N] [--format qcow2|raw] [--backing PATH]...\n"
		   "         [--cache none|writeback]\n"
		   "         [--sr-type TYPE --sr SR] IMAGE\n"
		   "   or: lvqcow serve --control PATH --args-from FIFO [--caller PID:START]\n"
		   "With --sr, a pause nobody ends within LVQCOW_NBD_PAUSE_LIMIT seconds\n"
		   "runs \"lvqcow resume --type TYPE SR EXPORT\".\n"
		   "With --args-from, the other arguments are read from FIFO (NUL-separated,\n"
		   "until it is closed) within LVQCOW_NBD_START_TIMEOUT seconds; nothing\n"
		   "read, or the end of the --caller process (pid and start time), ends\n"
		   "the server quietly.\n");
	return f == stdout ? 0 : 1;
}

/* none: O_DIRECT (the default); writeback: through the page cache. */
static int parse_cache(const char *s, bool *direct)
{
	if (!strcmp(s, "none"))
		*direct = true;
	else if (!strcmp(s, "writeback"))
		*direct = false;
	else
		return -1;
	return 0;
}

static int parse_format(const char *s, enum nbd_format *f)
{
	if (!strcmp(s, "qcow2"))
		*f = NBD_FORMAT_QCOW2;
	else if (!strcmp(s, "raw"))
		*f = NBD_FORMAT_RAW;
	else
		return -1;
	return 0;
}

/* The server's volume belongs to an SR: an overdue pause is ended by
 * "lvqcow resume", which knows the SR's metadata. */
static int set_rescue(struct serve_args *a)
{
	char **r = a->rescue;

	if (!a->sr != !a->sr_type)
		return -1;
	if (!a->sr)
		return 0;
	r[0] = "lvqcow", r[1] = "resume", r[2] = "--type", r[3] = (char *)a->sr_type;
	r[4] = "--", r[5] = (char *)a->sr, r[6] = (char *)a->o.export_name, r[7] = NULL;
	a->o.on_stuck = r;
	return 0;
}

static int parse_opts(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "export", required_argument, NULL, 'e' },
		{ "control", required_argument, NULL, 'c' },
		{ "readonly", no_argument, NULL, 'r' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'F' },
		{ "backing", required_argument, NULL, 'b' },
		{ "cache", required_argument, NULL, 'C' },
		{ "sr-type", required_argument, NULL, 'T' },
		{ "sr", required_argument, NULL, 'S' },
		{ "args-from", required_argument, NULL, 'A' },
		{ "caller", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;             /* a fresh scan: the staged list comes second */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->o.socket = optarg; break;
		case 'e': a->o.export_name = optarg; break;
		case 'c': a->o.control = optarg; break;
		case 'r': a->o.readonly = true; break;
		case 'p': a->o.pidfile = optarg; break;
		case 'f': a->foreground = true; break;
		case 'l': a->log = optarg; break;
		case 't': a->o.threads = atoi(optarg); break;
		case 'F':
			if (parse_format(optarg, &a->o.format) < 0)
				return -1;
			break;
		case 'b':
			if (a->o.nbacking == NBD_MAX_CHAIN)
				return -1;
			a->backing[a->o.nbacking++] = optarg;
			break;
		case 'C':
			if (parse_cache(optarg, &a->o.direct) < 0)
				return -1;
			break;
		case 'T': a->sr_type = optarg; break;
		case 'S': a->sr = optarg; break;
		case 'A': a->args_from = optarg; break;
		case 'P': a->caller = optarg; break;
		case 'h': exit(serve_usage(stdout));
		default: return -1;
		}
	}
	return optind;
}

static int check_args(int argc, char **argv, int next, struct serve_args *a)
{
	if (next != argc - 1 || !a->o.socket || !a->o.export_name ||
	    a->o.threads < 0 || a->o.threads > 256)
		return -1;
	a->o.image = argv[next];
	a->o.backing = a->backing;
	return set_rescue(a);
}

static bool caller_ok(const char *caller, int *pid, unsigned long long *start)
{
	char end;

	return sscanf(caller, "%d:%llu%c", pid, start, &end) == 2 && *pid > 0;
}

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	int next;

	a->o.direct = true;
	if ((next = parse_opts(argc, argv, a)) < 0)
		return -1;
	if (!a->args_from)
		return a->caller ? -1 : check_args(argc, argv, next, a);
	if (a->caller && !caller_ok(a->caller, &a->caller_pid, &a->caller_start))
		return -1;
	/* Staged: only the control socket (so that the command line proves
	 * what the server serves), the FIFO and the caller. */
	return next == argc && a->o.control && !a->o.socket && !a->o.export_name ? 0 : -1;
}

/* --caller PID:START: a pidfd on that process, -2 when it is gone
 * already, -1 without the option. */
static int watch_caller(const struct serve_args *a)
{
	int pfd;

	if (!a->caller)
		return -1;
	pfd = proc_watch(a->caller_pid, a->caller_start);
	return pfd >= 0 ? pfd : -2;
}

/* Waits for the FIFO, or for the caller's end.  1: the FIFO has data
 * or its writer closed; 0: the caller ended first; -1: timed out. */
static int wait_staged(struct pollfd *p, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_now_ms();
		if (left <= 0 || poll(p, p[1].fd >= 0 ? 2 : 1, (int)left) == 0)
			return -1;
		if (p[0].revents)
			return 1;
		if (p[1].fd >= 0 && p[1].revents)
			return 0;
	}
}

static int open_staged(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		return -2;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == geteuid())
		return fd;
	fprintf(stderr, "lvqcow serve: %s: not a FIFO of ours\n", path);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* 1: read until the writer closed; 0: the caller ended first; -1: a
 * message on stderr. */
static int read_until_closed(struct pollfd *p, const char *path, char *buf, size_t cap,
			     size_t *len)
{
	int64_t deadline = clock_now_ms() + nbd_start_timeout_ms();

	for (;;) {
		int w = wait_staged(p, deadline);
		if (w < 0)
			fprintf(stderr, "lvqcow serve: no arguments in %s within %d ms\n", path,
				nbd_start_timeout_ms());
		if (w <= 0)
			return w;
		ssize_t n = read(p[0].fd, buf + *len, cap - *len);
		if (n == 0)
			return 1;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			fprintf(stderr, "lvqcow serve: %s: %m\n", path);
			return -1;
		}
		if ((*len += (size_t)n) == cap) {
			fprintf(stderr, "lvqcow serve: %s: arguments too long\n", path);
			return -1;
		}
	}
}

/* Returns the bytes read; 0 when the caller gave up (the FIFO closed
 * empty or removed, the caller gone); -1 with a message on stderr. */
static ssize_t read_staged(const char *path, int caller, char *buf, size_t cap)
{
	struct pollfd p[2] = { { .fd = open_staged(path), .events = POLLIN },
			       { .fd = caller, .events = POLLIN } };
	size_t len = 0;
	int r;

	if (p[0].fd < 0 || caller == -2) {
		if (p[0].fd >= 0)
			close(p[0].fd);
		return p[0].fd == -1 ? -1 : 0;
	}
	r = read_until_closed(p, path, buf, cap, &len);
	close(p[0].fd);
	return r <= 0 ? r : (ssize_t)len;
}

/* The list read is a whole command line from "serve" on, every
 * argument ending with a NUL; it must name the same control socket and
 * no other FIFO. */
static int parse_staged(struct serve_args *a, char *buf, size_t len)
{
	static char *argv[NBD_STAGE_ARGS_MAX / 2 + 2];
	const char *control = a->o.control;
	int argc = 0, next;

	if (buf[len - 1] != '\0' || strcmp(buf, "serve"))
		return -1;
	for (size_t off = 0; off < len; off += strlen(buf + off) + 1)
		argv[argc++] = buf + off;
	argv[argc] = NULL;
	a->args_from = a->caller = NULL;
	if ((next = parse_opts(argc, argv, a)) < 0 || a->args_from || a->caller ||
	    strcmp(a->o.control, control))
		return -1;
	return check_args(argc, argv, next, a);
}

/* Arguments from the call that staged this server, while it lives. */
static int take_staged(struct serve_args *a)
{
	static char buf[NBD_STAGE_ARGS_MAX];
	const char *from = a->args_from;
	int caller = watch_caller(a);
	ssize_t len = read_staged(from, caller, buf, sizeof buf);

	if (caller >= 0)
		close(caller);
	if (len <= 0)
		return (int)len;
	if (parse_staged(a, buf, (size_t)len) < 0) {
		fprintf(stderr, "lvqcow serve: bad arguments in %s\n", from);
		return -1;
	}
	return 1;
}

static void redirect_stdio(const char *log)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int err = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(err >= 0 ? err : null, 2);
		close(null);
	}
	if (err >= 0)
		close(err);
}

/* The parent relays the child's first line and exits with its verdict,
 * within the start timeout: the call that started it waits for this
 * exit, possibly holding the SR lock, so a server whose setup hangs (an
 * image on a dead NFS server) is killed and reported, never waited for. */
static int wait_ready(int fd, pid_t child)
{
	char line[ERR_MSG_MAX + 16];
	int timeout_ms = nbd_start_timeout_ms();
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = -1;
	int r;

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r > 0)
		n = read(fd, line, sizeof line - 1);
	if (n > 0 && !strncmp(line, "ok\n", 3))
		return 0;
	if (r == 0) {
		kill(child, SIGKILL);
		fprintf(stderr, "lvqcow serve: the server was not ready within %d ms (killed)\n",
			timeout_ms);
		return SERVE_EXIT_NOT_READY;
	}
	line[n > 0 ? n : 0] = '\0';
	fprintf(stderr, "lvqcow serve: %s", n > 0 ? line : "server exited during setup\n");
	return 1;
}

static int daemonize(struct serve_args *a)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		perror("lvqcow serve");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		exit(wait_ready(p[0], pid));
	}
	close(p[0]);
	setsid();
	redirect_stdio(a->log);
	a->o.ready_fd = p[1];
	return 0;
}

int cli_serve(int argc, char **argv)
{
	struct serve_args a = { .o = { .ready_fd = -1 } };
	int r;

	if (parse_args(argc, argv, &a) < 0)
		return serve_usage(stderr);
	if (a.args_from && (r = take_staged(&a)) <= 0)
		return r < 0 ? 1 : 0;
	if (!a.foreground && daemonize(&a) < 0)
		return 1;
	a.o.log = a.foreground ? NULL : a.log;
	if (nbd_serve(&a.o) < 0) {
		log_error("serve: %s", err_last()->msg);
		return 1;
	}
	return 0;
}
