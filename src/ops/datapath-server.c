/* datapath-server: starting, querying and stopping a volume's NBD
 * server process.  The server is a fresh exec of this binary
 * ("lvqcow serve"), never a fork of the calling process: the call may
 * hold the SR lock and may have loaded LVM, and the server must carry
 * neither.  It is stopped through its control socket, which drains and
 * flushes; it removes its pid file as the very last step, so the pid
 * file vanishing means the image is closed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/log.h"
#include "lq/nbd.h"
#include "lq/qcow2.h"
#include "lq/rundir.h"
#include "lq/uuid.h"
#include "datapath-int.h"

#define DP_STOP_WAIT_MS 120000

bool ops_dp_server_running(const struct dp *d)
{
	char reply[256];

	return nbd_control_call(d->ctl, "status", reply, sizeof reply) == 0;
}

/* Child side: stdout belongs to the JSON result, so the server and its
 * launcher write only to stderr (and the log). */
static void exec_server(const struct dp *d, const char *image, bool readonly)
{
	char *argv[] = {
		"lvqcow", "serve", "--socket", (char *)d->sock, "--control", (char *)d->ctl,
		"--export", (char *)d->vol.key, "--pidfile", (char *)d->pid,
		"--log", (char *)d->log, (char *)image, NULL, NULL,
	};

	if (readonly) {
		argv[13] = argv[12];
		argv[12] = "--readonly";
	}
	dup2(2, 1);
	close_range(3, ~0u, 0);
	execv("/proc/self/exe", argv);
	_exit(127);
}

int ops_dp_server_start(const struct dp *d, const char *image, bool readonly)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return err_sys("fork: %m");
	if (pid == 0)
		exec_server(d, image, readonly);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_sys("waitpid: %m");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(EIO, "the NBD server for volume %s did not start (see %s)",
			       d->vol.key, d->log);
	log_info("datapath: serving %s on %s", image, d->sock);
	return 0;
}

static pid_t read_pid(const struct dp *d)
{
	FILE *f = fopen(d->pid, "re");
	int pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 1 ? pid : 0;
}

/* Gone, or a zombie nobody has reaped yet. */
static bool process_gone(pid_t pid)
{
	char path[64], stat[256];
	FILE *f;
	char *p;

	if (kill(pid, 0) < 0)
		return errno == ESRCH;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return true;
	p = fgets(stat, sizeof stat, f);
	fclose(f);
	p = p ? strrchr(stat, ')') : NULL;
	return p && p[1] == ' ' && p[2] == 'Z';
}

static void sleep_ms(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

static int wait_stopped(const struct dp *d, pid_t pid)
{
	for (long waited = 0; waited < DP_STOP_WAIT_MS; waited += 10) {
		if (access(d->pid, F_OK) < 0 || (pid && process_gone(pid)))
			return 0;
		sleep_ms(10);
	}
	return err_set(ETIMEDOUT, "the NBD server of volume %s (pid %d) did not stop",
		       d->vol.key, (int)pid);
}

int ops_dp_server_stop(const struct dp *d)
{
	char reply[256];
	pid_t pid = read_pid(d);

	if (nbd_control_call(d->ctl, "stop", reply, sizeof reply) < 0) {
		if (!pid || process_gone(pid))
			return 0;               /* nothing is serving */
		log_warn("datapath: control socket of %s silent; sending SIGTERM to %d",
			 d->vol.key, (int)pid);
		kill(pid, SIGTERM);
	}
	return wait_stopped(d, pid);
}

/* Pausing waits for in-flight requests and flushes; then resume. */
int ops_dp_server_flush(const struct dp *d)
{
	char reply[256];

	if (nbd_control_call(d->ctl, "pause", reply, sizeof reply) < 0) {
		nbd_control_call(d->ctl, "resume", reply, sizeof reply);
		return -1;
	}
	return nbd_control_call(d->ctl, "resume", reply, sizeof reply);
}

int ops_dp_overlay_create(const struct dp *d)
{
	struct qcow2_create_opts o = {
		.size = d->vol.virtual_size,
		.backing = d->vol.image_path,
		.backing_fmt = "qcow2",
	};

	ops_dp_overlay_remove(d);
	return qcow2_create(d->overlay, &o);
}

void ops_dp_overlay_remove(const struct dp *d)
{
	if (unlink(d->overlay) < 0 && errno != ENOENT)
		log_warn("datapath: removing %s: %m", d->overlay);
}

/* The chain under a running server changed (snapshot, coalesce): move
 * the server onto the new leaf.  Nothing to do when no server runs.  A
 * non-persistent overlay is refused: its backing name still points at
 * the old leaf. */
int ops_datapath_reopen(const char *key, const char *image)
{
	char sub[64], dir[PATH_MAX], ctl[PATH_MAX], cmd[PATH_MAX + 16], reply[PATH_MAX + 64];

	if (!uuid_is_valid(key))
		return err_set(EINVAL, "unexpected volume key %.64s", key);
	snprintf(sub, sizeof sub, "nbd/%s", key);
	if (rundir_path(sub, dir, sizeof dir) < 0)
		return -1;
	if (snprintf(ctl, sizeof ctl, "%s/ctl", dir) >= (int)sizeof ctl)
		return err_set(ENAMETOOLONG, "runtime path too long under %s", dir);
	if (nbd_control_call(ctl, "status", reply, sizeof reply) < 0)
		return 0;
	if (strstr(reply, "/overlay.qcow2"))
		return err_set(EBUSY, "volume %s is served non-persistently", key);
	if (snprintf(cmd, sizeof cmd, "reopen %s", image) >= (int)sizeof cmd || strchr(image, '\n'))
		return err_set(EINVAL, "bad image path for reopen");
	if (nbd_control_call(ctl, "pause", reply, sizeof reply) < 0)
		return -1;
	if (nbd_control_call(ctl, cmd, reply, sizeof reply) < 0) {
		struct err_record e = *err_last();
		nbd_control_call(ctl, "resume", reply, sizeof reply);
		return err_set(e.errnum, "%s", e.msg);
	}
	return nbd_control_call(ctl, "resume", reply, sizeof reply);
}
