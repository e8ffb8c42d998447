/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-server: starting, querying and stopping a volume's NBD
 * server process.  The server is a fresh exec of this binary
 * ("lvqcow serve"), never a fork of the calling process: the call may
 * hold the SR lock and may have loaded LVM, and the server must carry
 * neither.  It is stopped through its control socket, which drains and
 * flushes; it removes its pid file as the very last step, so the pid
 * file vanishing means the image is closed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/store.h"
#include "lq/nbd.h"
#include "lq/qcow2.h"
#include "datapath-int.h"

bool ops_dp_server_running(const struct dp *d)
{
	char reply[256];

	return nbd_control_call(d->ctl, "status", reply, sizeof reply) == 0;
}

/* The volume's server needs its images for as long as it runs: held
 * under the volume's own holder (store_images_hold), until detach. */
static void dp_holder(const struct dp *d, char *buf, size_t n)
{
	snprintf(buf, n, "dp-%s", d->vol.key);
}

void ops_dp_let_go(const struct dp *d, uint64_t leaf_end)
{
	char holder[64];
	int rc;

	if (!d->sr)
		return;
	dp_holder(d, holder, sizeof holder);
	if (leaf_end)
		rc = store_holder_release_fit(d->sr->store, holder, d->vol.image, leaf_end);
	else
		rc = store_holder_release(d->sr->store, holder);
	if (rc < 0) {
		log_warn("datapath: volume %s: %s", d->vol.key, err_last()->msg);
		err_clear();
	}
}

static int no_parent(const struct dp *d, const struct meta_node *n)
{
	return err_errnum() == ENOENT ? err_corrupt("SR %s: node %s has no parent %s",
						    d->sr->sr, n->uuid, n->parent)
				      : -1;
}

/* The images below the volume's leaf, nearest parent first, from the
 * metadata's node tree — never from an image header.  The leaf and
 * every image of the chain are held for the volume's server, together:
 * one activation for the whole chain. */
int ops_dp_chain(const struct dp *d, struct dp_chain *c, uint64_t leaf_room)
{
	const char *images[NBD_MAX_CHAIN + 1];
	struct meta_node *n, *p;
	char holder[64];
	size_t k = 0;

	c->n = 0;
	if (meta_node_find(d->sr->meta, d->vol.node, &n) < 0)
		return err_errnum() == ENOENT ? err_corrupt("SR %s: volume %s has no node %s",
							    d->sr->sr, d->vol.key, d->vol.node)
					      : -1;
	for (images[k++] = n->image; n->parent; n = p) {
		if (meta_node_find(d->sr->meta, n->parent, &p) < 0)
			return no_parent(d, n);
		if (k == NBD_MAX_CHAIN + 1)
			return err_set(EINVAL, "volume %s: chain deeper than %d", d->vol.key,
				       NBD_MAX_CHAIN);
		images[k++] = p->image;
	}
	dp_holder(d, holder, sizeof holder);
	if (store_images_hold_room(d->sr->store, images, k, holder, leaf_room) < 0)
		return -1;
	for (size_t i = 1; i < k; i++, c->n++)
		if (store_image_path(d->sr->store, images[i], c->path[c->n], sizeof c->path[c->n]) < 0)
			return -1;
	return 0;
}

static int open_server_by_pidfile(const struct dp *d);

bool ops_dp_server_alive(const struct dp *d)
{
	int pfd = open_server_by_pidfile(d);

	if (pfd < 0)
		return false;
	close(pfd);
	return true;
}

/* True once the process has exited (the pidfd becomes readable). */
static bool wait_exit(int pfd, int timeout_ms)
{
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	int r;

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return r > 0;
}

/* Does argv (NUL-separated, n bytes) run "serve --control ctl"? */
static bool argv_serves(const char *argv, size_t n, const char *ctl)
{
	const char *end = argv + n, *prev = NULL;
	bool serve = false;

	for (const char *a = argv; a < end; prev = a, a += strlen(a) + 1) {
		if (prev == argv && !strcmp(a, "serve"))
			serve = true;
		if (serve && prev && !strcmp(prev, "--control") && !strcmp(a, ctl))
			return true;
	}
	return false;
}

static bool cmdline_serves(pid_t pid, const char *ctl)
{
	char path[64], buf[16384];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return argv_serves(buf, (size_t)n, ctl);
}

static pid_t pidfile_pid(const char *path)
{
	char buf[32], *end;
	ssize_t n;
	long pid;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && (*end == '\n' || !*end) && pid > 1 && pid < INT32_MAX ? (pid_t)pid : 0;
}

/* The second proof, for a server whose control socket does not answer
 * (its file removed, its backlog full): the pid file's process runs
 * "lvqcow serve" with this volume's control path.  The command line is
 * read while a pidfd holds the process and counts only if the process is
 * still alive after the read, so the pid cannot have been reused in
 * between. */
static int open_server_by_pidfile(const struct dp *d)
{
	pid_t pid = pidfile_pid(d->pid);
	int pfd = pid ? pidfd_open(pid, 0) : -1;

	if (pfd >= 0 && (!cmdline_serves(pid, d->ctl) || wait_exit(pfd, 0))) {
		close(pfd);
		pfd = -1;
	}
	return pfd;
}

/* A handle on the proven server process: its pid may be reused once
 * it is gone, a pidfd never.  The proof is repeated after the pidfd is
 * taken, so the pidfd cannot name a process that took over the pid. */
static int open_server(const struct dp *d)
{
	pid_t pid = nbd_server_pid(d->ctl);
	int pfd;

	if (!pid)
		return open_server_by_pidfile(d);
	pfd = pidfd_open(pid, 0);
	if (pfd >= 0 && nbd_server_pid(d->ctl) != pid) {
		close(pfd);
		pfd = -1;
	}
	return pfd;
}

/* The files of a server that is gone; the next server replaces stale
 * sockets anyway, but a stale pid file would name a stranger. */
static void forget_server(const struct dp *d)
{
	const char *files[] = { d->pid, d->sock, d->ctl };

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (unlink(files[i]) < 0 && errno != ENOENT)
			log_warn("datapath: removing %s: %m", files[i]);
}

/* SIGCONT too: a stopped server cannot act on SIGTERM. */
static void force_stop(const struct dp *d, int pfd)
{
	int t = nbd_stop_timeout_ms();

	log_warn("datapath: the NBD server of %s does not stop; sending SIGTERM", d->vol.key);
	pidfd_send_signal(pfd, SIGTERM, NULL, 0);
	pidfd_send_signal(pfd, SIGCONT, NULL, 0);
	if (wait_exit(pfd, t))
		return;
	log_error("datapath: the NBD server of %s ignores SIGTERM; killing it", d->vol.key);
	pidfd_send_signal(pfd, SIGKILL, NULL, 0);
	wait_exit(pfd, t);
}

/* Bounded: a clean stop through the control socket, else signals to the
 * proven server process; a process that cannot be proven to be the
 * volume's server is never signalled. */
int ops_dp_server_stop(const struct dp *d)
{
	char reply[256];
	int pfd = open_server(d);

	if (pfd < 0) {
		forget_server(d);
		return 0;               /* nothing is serving */
	}
	if (nbd_control_call(d->ctl, "stop", reply, sizeof reply) < 0 ||
	    !wait_exit(pfd, nbd_stop_timeout_ms()))
		force_stop(d, pfd);
	close(pfd);
	forget_server(d);
	return 0;
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

/* "reopen TOP<TAB>PARENT<TAB>...": the chain as the metadata has it. */
static char *reopen_cmd(const struct dp *d, const struct dp_chain *c)
{
	size_t len = strlen("reopen ") + strlen(d->vol.image_path) + 1;
	char *cmd;

	for (size_t i = 0; i < c->n; i++)
		len += strlen(c->path[i]) + 1;
	if (!(cmd = malloc(len)))
		return NULL;
	strcat(strcpy(cmd, "reopen "), d->vol.image_path);
	for (size_t i = 0; i < c->n; i++)
		strcat(strcat(cmd, "\t"), c->path[i]);
	return cmd;
}

static int send_reopen(const struct dp *d, const char *cmd)
{
	char reply[PATH_MAX + 64];

	if (nbd_control_call(d->ctl, "pause", reply, sizeof reply) < 0 ||
	    nbd_control_call(d->ctl, cmd, reply, sizeof reply) < 0)
		return -1;
	return nbd_control_call(d->ctl, "resume", reply, sizeof reply);
}

/* Is a server running for d, one a chain change may move?  0 and
 * *running; -1 when its control socket does not answer in time, or when
 * it serves a non-persistent overlay (whose backing name still points at
 * the old leaf). */
static int probe_movable(const struct dp *d, const char *key, bool *running)
{
	char reply[PATH_MAX + 64];

	*running = false;
	if (nbd_control_call(d->ctl, "status", reply, sizeof reply) < 0)
		return err_errnum() == ETIMEDOUT ? -1 : 0;
	if (strstr(reply, "/overlay.qcow2"))
		return err_set(EBUSY, "volume %s is served non-persistently", key);
	*running = true;
	return 0;
}

/* The reopen command for volume key's chain as the metadata names it. */
static char *chain_cmd(struct dp *d, const char *key)
{
	CLEANUP_FREE struct dp_chain *c = malloc(sizeof *c);
	char *cmd;

	if (!c) {
		err_set(ENOMEM, "out of memory");
		return NULL;
	}
	if (ops_dp_chain(d, c, 0) < 0)
		return NULL;
	if (!(cmd = reopen_cmd(d, c))) {
		err_set(ENOMEM, "out of memory");
		return NULL;
	}
	if (strchr(cmd, '\n')) {
		free(cmd);
		err_set(EINVAL, "bad image path for reopen of volume %s", key);
		return NULL;
	}
	return cmd;
}

/* The chain under a running server changed (snapshot, coalesce): move
 * the server onto the volume's chain as the metadata now names it.
 * Nothing to do when no server runs.  If the move fails the server
 * stays paused: the caller knows whether its old chain may still be
 * written (after a snapshot it may not). */
int ops_datapath_reopen(struct ops_sr *sr, const char *key)
{
	CLEANUP_FREE char *cmd = NULL;
	struct dp d = { .sr = sr };
	bool running;

	if (ops_volume_lookup(sr, key, &d.vol) < 0 || ops_dp_paths(&d, key) < 0 ||
	    probe_movable(&d, key, &running) < 0)
		return -1;
	if (!running)
		return 0;
	if (!(cmd = chain_cmd(&d, key)))
		return -1;
	return send_reopen(&d, cmd);
}

/* The same for a server the caller paused (ops_datapath_pause, which
 * refused an overlay): one round trip, so the pause is shorter. */
int ops_datapath_reopen_paused(struct ops_sr *sr, const char *key)
{
	CLEANUP_FREE char *cmd = NULL;
	struct dp d = { .sr = sr };
	char reply[PATH_MAX + 64];

	if (ops_volume_lookup(sr, key, &d.vol) < 0 || ops_dp_paths(&d, key) < 0 ||
	    !(cmd = chain_cmd(&d, key)))
		return -1;
	return nbd_control_call(d.ctl, cmd, reply, sizeof reply);
}

/* Live changes of a chain (snapshot, clone, resize): pause the volume's
 * server before the metadata commit, so that nothing reaches the old
 * leaf once the commit has made it immutable.  *paused false (and 0)
 * when no server runs. */
int ops_datapath_pause(struct ops_sr *sr, const char *key, bool *paused)
{
	struct dp d = { .sr = sr };
	char reply[64];
	bool running;

	*paused = false;
	if (ops_dp_paths(&d, key) < 0 || probe_movable(&d, key, &running) < 0)
		return -1;
	if (!running)
		return 0;
	if (nbd_control_call(d.ctl, "pause", reply, sizeof reply) < 0)
		return -1;
	*paused = true;
	return 0;
}

int ops_datapath_resume(struct ops_sr *sr, const char *key)
{
	struct dp d = { .sr = sr };
	char reply[256];

	if (ops_dp_paths(&d, key) < 0)
		return -1;
	return nbd_control_call(d.ctl, "resume", reply, sizeof reply);
}

static int rescue_locked(struct ops_sr *sr, const char *key, bool *resumed)
{
	struct dp d = { .sr = sr };
	char reply[PATH_MAX + 64];

	if (ops_dp_paths(&d, key) < 0)
		return -1;
	if (nbd_control_call(d.ctl, "status", reply, sizeof reply) < 0)
		return err_errnum() == ETIMEDOUT ? -1 : 0;
	if (!strstr(reply, " state=paused "))
		return 0;
	if (ops_datapath_reopen(sr, key) < 0)
		return -1;
	*resumed = true;
	log_warn("SR %s: volume %s: a server left paused was moved onto its chain and resumed",
		 sr->sr, key);
	return 0;
}

int ops_datapath_rescue(const char *type, const char *sr_str, const char *key, bool *resumed)
{
	struct ops_sr *sr;
	int rc;

	*resumed = false;
	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = rescue_locked(sr, key, resumed);
	ops_sr_close(sr);
	return rc;
}

bool ops_datapath_streamable(const char *key)
{
	struct dp d = { 0 };

	return ops_dp_paths(&d, key) == 0 && access(d.overlay, F_OK) < 0 &&
	       nbd_server_pid(d.ctl) > 0;
}

int ops_datapath_stream(const char *key, const char *cmd, char *reply, size_t n)
{
	struct dp d = { 0 };

	if (ops_dp_paths(&d, key) < 0)
		return -1;
	return nbd_control_call(d.ctl, cmd, reply, n);
}
