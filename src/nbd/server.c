/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server: nbd_serve() — setting up (image, sockets, pid file, workers),
 * the accept loop, and the clean shutdown: stop accepting, let readers
 * end, drain every queued request, flush and close the image. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/log.h"
#include "nbd-int.h"

#define NBD_DEFAULT_THREADS 16
#define NBD_TICK_MS 500       /* handshake deadlines, log size checked this often */
#define NBD_DRAIN_GRACE_S 30   /* then replies to unresponsive clients are cut */

static int block_signals(int *sfd)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return err_set(EINVAL, "cannot block signals");
	*sfd = signalfd(-1, &set, SFD_CLOEXEC);
	return *sfd < 0 ? err_sys("signalfd: %m") : 0;
}

/* Request buffers (up to NBD_MAX_PAYLOAD) come and go at the request
 * rate.  Above glibc's mmap threshold each would be a fresh mapping:
 * page faults that zero every page before a direct read fills it, and
 * an munmap whose TLB shootdown stops every worker.  Kept in the heap
 * instead, freed buffers are reused; the memory budget (budget.c)
 * bounds how much the heap can hold, and above 64 MiB of free space at
 * its top it is given back. */
static void keep_request_buffers(void)
{
	mallopt(M_MMAP_THRESHOLD, NBD_MAX_PAYLOAD + (1 << 20));
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

static struct nbd_server *server_new(const struct nbd_server_opts *o)
{
	struct nbd_server *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	keep_request_buffers();
	s->opts = *o;
	if (s->opts.threads <= 0)
		s->opts.threads = NBD_DEFAULT_THREADS;
	s->listen_fd = s->control_fd = s->signal_fd = s->wake_rd = s->wake_wr = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->control_lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_mutex_init(&s->budget_lock, NULL);
	pthread_cond_init(&s->budget_cond, NULL);
	for (int i = 0; i < NBD_CONTROL_SLOTS; i++)
		s->control[i].fd = -1;
	nbd_bounds_load(&s->bounds);
	return s;
}

static int make_wake_pipe(struct nbd_server *s)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_sys("pipe: %m");
	s->wake_rd = p[0];
	s->wake_wr = p[1];
	return 0;
}

void nbd_server_wake(struct nbd_server *s)
{
	if (write(s->wake_wr, "x", 1) < 0)
		log_debug("wake pipe: %m");
}

static int open_image(struct nbd_server *s)
{
	struct nbd_backend *be;

	if (nbd_chain_dup(&s->chain, s->opts.image, (char *const *)s->opts.backing,
			  s->opts.nbacking) < 0)
		return -1;
	if (nbd_backend_open(&s->chain, &s->opts, &be) < 0)
		return -1;
	s->be = be;
	s->size = s->start_size = be->size;
	return 0;
}

/* The image is opened before SIGTERM is blocked: an open that hangs
 * (a FIFO, a dead NFS server) must still die on SIGTERM. */
static int setup(struct nbd_server *s)
{
	if (open_image(s) < 0 || block_signals(&s->signal_fd) < 0 || make_wake_pipe(s) < 0)
		return -1;
	if ((s->listen_fd = nbd_listen(s->opts.socket)) < 0)
		return -1;
	if (s->opts.control && (s->control_fd = nbd_listen(s->opts.control)) < 0)
		return -1;
	if (s->opts.pidfile && nbd_write_pidfile(s->opts.pidfile) < 0)
		return -1;
	return nbd_pool_start(s, s->opts.threads);
}

static void tell_ready(struct nbd_server *s, int rc)
{
	char msg[ERR_MSG_MAX + 16];
	int n;

	if (s->opts.ready_fd < 0)
		return;
	n = rc == 0 ? snprintf(msg, sizeof msg, "ok\n")
		    : snprintf(msg, sizeof msg, "error: %s\n", err_last()->msg);
	if (write(s->opts.ready_fd, msg, (size_t)MIN(n, (int)sizeof msg - 1)) < 0)
		log_debug("ready pipe: %m");
	close(s->opts.ready_fd);
	s->opts.ready_fd = -1;
}

static void accept_one(struct nbd_server *s, int lfd, bool control)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			log_warn("accept: %m");
		return;
	}
	if (control)
		nbd_control_start(s, fd);
	else
		nbd_conn_start(s, fd);
}

/* The log lives in the run directory (tmpfs: memory).  Past log_max
 * it is moved to LOG.1, replacing the previous one, and a fresh file
 * is started, so it never holds more than twice log_max. */
static void rotate_log(struct nbd_server *s)
{
	char old[PATH_MAX];
	struct stat st;
	int fd;

	if (!s->opts.log || fstat(2, &st) < 0 || (uint64_t)st.st_size <= s->bounds.log_max)
		return;
	if (snprintf(old, sizeof old, "%s.1", s->opts.log) >= (int)sizeof old ||
	    rename(s->opts.log, old) < 0)
		return;
	fd = open(s->opts.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	dup2(fd, 2);
	close(fd);
	log_info("log rotated to %s", old);
}

/* Returns when a signal or the control channel asks to stop. */
static void accept_loop(struct nbd_server *s)
{
	struct pollfd p[4] = {
		{ .fd = s->listen_fd, .events = POLLIN },
		{ .fd = s->control_fd, .events = POLLIN },
		{ .fd = s->signal_fd, .events = POLLIN },
		{ .fd = s->wake_rd, .events = POLLIN },
	};

	for (;;) {
		nbd_conn_reap_handshakes(s);
		nbd_pause_watch(s);
		rotate_log(s);
		if (poll(p, 4, NBD_TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %m");
			return;
		}
		if (p[2].revents || p[3].revents)
			return;
		if (p[0].revents & POLLIN)
			accept_one(s, s->listen_fd, false);
		if (p[1].revents & POLLIN)
			accept_one(s, s->control_fd, true);
	}
}

/* Waits until no connection (and no control client) is left, or the
 * deadline passes; returns false on timeout. */
static bool wait_conns(struct nbd_server *s, int seconds)
{
	struct timespec dl;
	bool done;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += seconds;
	pthread_mutex_lock(&s->lock);
	while ((s->nconns || s->ncontrol) &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &dl) == 0)
		;
	done = !s->nconns && !s->ncontrol;
	pthread_mutex_unlock(&s->lock);
	return done;
}

static void close_listeners(struct nbd_server *s)
{
	close(s->listen_fd);
	s->listen_fd = -1;
	unlink(s->opts.socket);
	if (s->control_fd >= 0) {
		close(s->control_fd);
		s->control_fd = -1;
		unlink(s->opts.control);
	}
}

/* A thread stuck in the image (a hung open or I/O) cannot be joined;
 * the stop must still happen. */
static void give_up(struct nbd_server *s)
{
	log_error("stopping: requests stuck in the image; exiting without closing it");
	if (s->opts.pidfile)
		unlink(s->opts.pidfile);
	_exit(1);
}

/* Readers see EOF and stop taking requests; what they queued still
 * runs and is answered.  Only a client that does not read its replies
 * within the grace period has its socket cut. */
static int drain_and_close(struct nbd_server *s)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	close_listeners(s);
	nbd_conn_shutdown_all(s, SHUT_RD);
	nbd_control_shutdown_all(s);
	if (!wait_conns(s, NBD_DRAIN_GRACE_S)) {
		log_warn("clients slow to drain; cutting them off");
		nbd_conn_shutdown_all(s, SHUT_RDWR);
		if (!wait_conns(s, NBD_DRAIN_GRACE_S))
			give_up(s);
	}
	nbd_pool_stop(s);
	nbd_stream_stop(s);
	rc = nbd_backend_close(s->be);
	if (rc < 0)
		log_error("closing %s: %s", s->chain.top, err_last()->msg);
	s->be = NULL;
	return rc;
}

static void server_free(struct nbd_server *s)
{
	int fds[] = { s->listen_fd, s->control_fd, s->signal_fd, s->wake_rd, s->wake_wr };

	if (s->opts.pidfile)
		unlink(s->opts.pidfile);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	nbd_chain_free(&s->chain);
	free(s->stream.top);
	free(s->stream.parent);
	free(s);
}

int nbd_serve(const struct nbd_server_opts *o)
{
	struct nbd_server *s = server_new(o);
	int rc;

	if (!s)
		return err_set(ENOMEM, "out of memory");
	rc = setup(s);
	tell_ready(s, rc);
	if (rc == 0) {
		log_info("serving %s as '%s' on %s", s->chain.top, o->export_name, o->socket);
		accept_loop(s);
		log_info("stopping: draining requests");
		rc = drain_and_close(s);
	} else {
		if (s->pool.nthreads)
			nbd_pool_stop(s);
		if (s->listen_fd >= 0)
			close_listeners(s);
		nbd_backend_close(s->be);
	}
	server_free(s);
	return rc;
}
