/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbd: the NBD server that exposes one volume's qcow2 chain.
 *
 * nbd_serve() runs a fixed-newstyle NBD server on a UNIX socket until it
 * is told to stop (SIGTERM/SIGINT, or "stop" on the control socket),
 * then drains in-flight requests, flushes and closes the image.  The
 * control socket speaks a line protocol (docs/datapath.md): pause,
 * resume, reopen [IMAGE], status, stop.  nbd_control_call() is the
 * client side of that protocol.
 */
#ifndef LQ_NBD_H
#define LQ_NBD_H

#define NBD_MAX_CHAIN 64          /* backing images after the top */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum nbd_format {
	NBD_FORMAT_QCOW2,
	NBD_FORMAT_RAW,
};

struct nbd_server_opts {
	const char *socket;       /* listening socket path (mode 0600) */
	const char *control;      /* control socket path, or NULL */
	const char *export_name;  /* the one export; "" also reaches it */
	const char *image;        /* top image of the chain */
	const char *const *backing; /* the rest of the chain, nearest parent first */
	size_t nbacking;          /* 0: the image alone, whatever its header names */
	const char *pidfile;      /* or NULL */
	const char *log;          /* the file stderr goes to, rotated; or NULL */
	enum nbd_format format;
	bool readonly;
	/* O_DIRECT on every image file (buffered where the filesystem
	 * refuses it, logged), so that guest I/O bypasses the page cache. */
	bool direct;
	int threads;              /* workers; 0: default */
	int ready_fd;             /* gets "ok\n" or "error: ...\n" once ready; -1: none */
	/* argv of /proc/self/exe run when a pause outlasts its limit (a
	 * call that paused the server died); it must move the server onto
	 * the right chain and resume it.  NULL: none. */
	char *const *on_stuck;
};

/* Serves until stopped; 0 on a clean stop, -1 (err recorded) otherwise. */
int nbd_serve(const struct nbd_server_opts *o);

/* Sends one command line to a control socket and stores the reply line
 * (without "\n") in reply.  Returns 0 if the reply starts with "ok". */
int nbd_control_call(const char *path, const char *cmd, char *reply, size_t n);

/* The pid of the process listening on the control socket ctl, proven
 * by the kernel (SO_PEERCRED), or 0 if none answers.  A pid file alone
 * proves nothing: the pid may belong to another process by now. */
pid_t nbd_server_pid(const char *ctl);

/* How long a stopping server may take before it is killed
 * (LVQCOW_NBD_STOP_TIMEOUT, seconds). */
int nbd_stop_timeout_ms(void);
/* How long a detached server may take from its start to listening
 * (LVQCOW_NBD_START_TIMEOUT, seconds): its launcher, and so the call
 * that starts it, waits no longer. */
int nbd_start_timeout_ms(void);
/* The exit status of "lvqcow serve" (detached) whose server was not
 * ready in that time and was killed. */
#define SERVE_EXIT_NOT_READY 3
/* "lvqcow serve --args-from FIFO" reads at most this many bytes of
 * NUL-separated arguments, within the start timeout. */
#define NBD_STAGE_ARGS_MAX (256 * 1024)

#endif
