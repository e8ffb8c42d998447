/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-stage: starting a volume's NBD server in two steps, so that
 * its process start overlaps the call's own work.
 *
 * Stage forks the launcher as soon as the call knows a server must
 * start: "lvqcow serve --control CTL --args-from FIFO", under systemd
 * as a transient unit.  Its exec, its dynamic loading and the unit's
 * creation then run while the call activates and sizes the chain.  Go
 * writes the server's arguments into the FIFO once the images are
 * ready and waits for the launcher's verdict; cancel closes the FIFO
 * empty, and the server ends.  The server waits for its arguments
 * within the start timeout and only while the call lives (--caller), so
 * a call that dies leaves no server behind, nor a unit in the way of
 * the volume's next attach.
 *
 * The FIFO is args.<pid> in the volume's private runtime directory.
 * Every Datapath call of the volume holds the SR lock, so another
 * args.* FIFO found there is a leftover of a call that died. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/clock.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/log.h"
#include "lq/proc.h"
#include "datapath-int.h"

#define STAGE_POLL_US 2000

/* The server's own arguments from argv[k] on; returns the new end. */
static size_t serve_args(char **argv, size_t k, const struct dp *d, const char *image,
			 const struct dp_chain *c, bool readonly)
{
	char *fixed[] = {
		"serve", "--socket", (char *)d->sock, "--control", (char *)d->ctl,
		"--export", (char *)d->vol.key, "--pidfile", (char *)d->pid,
		"--log", (char *)d->log, "--sr-type", (char *)d->sr->type, "--sr", d->sr->sr,
	};

	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		argv[k++] = fixed[i];
	if (readonly)
		argv[k++] = "--readonly";
	if (d->sr->buffered) {
		argv[k++] = "--cache";
		argv[k++] = "writeback";
	}
	for (size_t i = 0; i < c->n; i++) {
		argv[k++] = "--backing";
		argv[k++] = (char *)c->path[i];
	}
	argv[k++] = (char *)image;
	argv[k] = NULL;
	return k;
}

/* The launcher's command line names the control socket, so that the
 * pid file proof (cmdline_serves) holds for the server it becomes. */
static size_t launch_args(char **argv, size_t k, const struct dp *d, const char *fifo,
			  char *caller)
{
	argv[k++] = "serve";
	argv[k++] = "--control";
	argv[k++] = (char *)d->ctl;
	argv[k++] = "--args-from";
	argv[k++] = (char *)fifo;
	argv[k++] = "--caller";
	argv[k++] = caller;
	argv[k] = NULL;
	return k;
}

/* Child side: stdout belongs to the JSON result, so the server and its
 * launcher write only to stderr (and the log).  Under systemd the
 * binary is named by its path: systemd-run cannot see /proc/self/exe. */
static void exec_launcher(const struct dp *d, const char *fifo, char *caller)
{
	static struct dp_unit u;
	static char *argv[DP_UNIT_ARGS + 10];
	static char exe[PATH_MAX];
	ssize_t n;
	size_t k = 0;

	dup2(2, 1);
	close_range(3, ~0u, 0);
	if (ops_dp_unit_systemd() && (n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		k = ops_dp_unit_prefix(d, &u, exe);
		memcpy(argv, u.argv, k * sizeof argv[0]);
		launch_args(argv, k, d, fifo, caller);
		execvp("systemd-run", argv);
		fprintf(stderr, "lvqcow: systemd-run: %m\n");
		_exit(127);
	}
	argv[k++] = "lvqcow";
	launch_args(argv, k, d, fifo, caller);
	execv("/proc/self/exe", argv);
	_exit(127);
}

/* FIFOs only, and only ours by name: see the header. */
static void drop_leftovers(const struct dp *d)
{
	DIR *dir = opendir(d->dir);
	struct dirent *e;
	struct stat st;

	if (!dir)
		return;
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "args.", 5) &&
		    fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISFIFO(st.st_mode))
			unlinkat(dirfd(dir), e->d_name, 0);
	closedir(dir);
}

/* The server waits for its arguments only while this call lives: it
 * is named by pid and start time, which a reused pid does not share. */
static void caller_name(char *buf, size_t n)
{
	unsigned long long start = 0;

	proc_start_time(getpid(), &start);
	snprintf(buf, n, "%d:%llu", (int)getpid(), start);
}

int ops_dp_server_stage(const struct dp *d, struct dp_stage *st)
{
	static char caller[48];
	pid_t pid;

	st->pid = 0;
	/* Never a second writer on the chain. */
	if (ops_dp_server_alive(d))
		return err_set(EBUSY, "volume %s: its NBD server (pid file %s) is alive but does "
			       "not answer on its control socket; Datapath.detach stops it",
			       d->vol.key, d->pid);
	drop_leftovers(d);
	caller_name(caller, sizeof caller);
	if (snprintf(st->fifo, sizeof st->fifo, "%s/args.%d", d->dir, (int)getpid()) >=
	    (int)sizeof st->fifo)
		return err_set(ENAMETOOLONG, "runtime path too long under %s", d->dir);
	if (mkfifo(st->fifo, 0600) < 0)
		return err_sys("mkfifo %s: %m", st->fifo);
	if ((pid = fork()) < 0) {
		unlink(st->fifo);
		return err_sys("fork: %m");
	}
	if (pid == 0)
		exec_launcher(d, st->fifo, caller);
	st->pid = pid;
	return 0;
}

/* The launcher opens the FIFO once it runs; until then an open for
 * writing fails with ENXIO.  Bounded by the start timeout, and by the
 * launcher's end.  Returns the fd, or -1 with errno. */
static int fifo_writer(struct dp_stage *st, int *status)
{
	int64_t deadline = clock_now_ms() + nbd_start_timeout_ms();
	int fd;

	while ((fd = open(st->fifo, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno != ENXIO)
			return -1;
		if (waitpid(st->pid, status, WNOHANG) == st->pid) {
			st->pid = 0;
			errno = ESRCH;
			return -1;
		}
		if (clock_now_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(STAGE_POLL_US);
	}
	return fd;
}

/* NUL-separated, in one buffer: the server reads until the FIFO ends. */
static int write_args(int fd, const char *fifo, char *const *argv, size_t n)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	CLEANUP_FREE char *buf = malloc(NBD_STAGE_ARGS_MAX);
	size_t len = 0;
	int r;

	if (!buf)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (len + l > NBD_STAGE_ARGS_MAX)
			return err_set(E2BIG, "the NBD server's arguments exceed %d bytes",
				       NBD_STAGE_ARGS_MAX);
		memcpy(buf + len, argv[i], l);
		len += l;
	}
	/* Blocking writes: the reader is there, and gone only by dying,
	 * which a write sees as EPIPE (the signal is ignored meanwhile). */
	if (fcntl(fd, F_SETFL, 0) < 0)
		return err_sys("fcntl: %m");
	sigaction(SIGPIPE, &ign, &old);
	r = file_write_full(fd, buf, len, fifo);
	sigaction(SIGPIPE, &old, NULL);
	return r;
}

/* Bounded: the launcher gives up after the start timeout. */
static int reap(struct dp_stage *st, int *status)
{
	while (st->pid && waitpid(st->pid, status, 0) < 0)
		if (errno != EINTR) {
			st->pid = 0;
			return err_sys("waitpid: %m");
		}
	st->pid = 0;
	return 0;
}

static int verdict(const struct dp *d, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == SERVE_EXIT_NOT_READY)
		return err_set(ETIMEDOUT, "the NBD server for volume %s was not ready within "
			       "%d ms and was killed (LVQCOW_NBD_START_TIMEOUT)", d->vol.key,
			       nbd_start_timeout_ms());
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(EIO, "the NBD server for volume %s did not start (see %s)",
			       d->vol.key, d->log);
	return 0;
}

/* A launcher that cannot be told to end is killed: it is the call's own
 * child, not yet reaped, so its pid is still its own. */
static void abort_launch(struct dp_stage *st)
{
	struct err_record e = *err_last();
	int status;

	unlink(st->fifo);
	if (st->pid)
		kill(st->pid, SIGKILL);
	reap(st, &status);
	err_restore(&e);
}

static int handed(const struct dp *d, struct dp_stage *st, int fd, const char *image,
		  const struct dp_chain *c, bool readonly)
{
	static char *argv[24 + 2 * NBD_MAX_CHAIN];
	size_t n = serve_args(argv, 0, d, image, c, readonly);
	int r = write_args(fd, st->fifo, argv, n), status = 0;

	close(fd);
	unlink(st->fifo);
	if (r < 0) {
		abort_launch(st);
		return -1;
	}
	if (reap(st, &status) < 0 || verdict(d, status) < 0)
		return -1;
	if (ops_dp_unit_systemd())
		log_info("datapath: serving %s on %s (systemd unit lvqcow-nbd-%s)", image, d->sock,
			 d->vol.key);
	else
		log_info("datapath: serving %s on %s", image, d->sock);
	return 0;
}

int ops_dp_server_go(const struct dp *d, struct dp_stage *st, const char *image,
		     const struct dp_chain *c, bool readonly)
{
	int status = 0, fd = fifo_writer(st, &status);

	if (fd >= 0)
		return handed(d, st, fd, image, c, readonly);
	if (errno == ESRCH) {
		unlink(st->fifo);
		return verdict(d, status) < 0 ? -1 : err_set(EIO, "the NBD server for volume %s "
							     "ended before it was given its "
							     "arguments (see %s)", d->vol.key,
							     d->log);
	}
	err_sys("the NBD server for volume %s did not take its arguments (%s): %m", d->vol.key,
		st->fifo);
	abort_launch(st);
	return -1;
}

/* An empty FIFO ends the server, and the unit it runs in; a launcher
 * that never opens it is killed. */
void ops_dp_server_cancel(struct dp_stage *st)
{
	struct err_record e = *err_last();
	int status, fd;

	if (!st->pid)
		return;
	if ((fd = fifo_writer(st, &status)) < 0) {
		abort_launch(st);
		return;
	}
	close(fd);
	unlink(st->fifo);
	reap(st, &status);
	err_restore(&e);
}
