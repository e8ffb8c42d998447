/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-int: shared by src/ops/datapath*.c.  A volume's NBD server
 * keeps its runtime files in <rundir>/nbd/<key>/: sock (NBD), ctl
 * (control), pid, log, overlay.qcow2 (non-persistent mode) and
 * attached (the domains that attached it, hex-encoded, one a line) and
 * device (N of the /dev/nbdN connected to the server). */
#ifndef LQ_DATAPATH_INT_H
#define LQ_DATAPATH_INT_H

#define DP_ATTACHED_DOMAINS 256

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lq/datapath.h"
#include "lq/nbd.h"
#include "lq/ops.h"

struct dp {
	struct ops_uri uri;
	struct ops_sr *sr;               /* opened OPS_SR_LOCKED */
	struct ops_volume_info vol;
	char dir[PATH_MAX];
	char sock[PATH_MAX], ctl[PATH_MAX], pid[PATH_MAX];
	char log[PATH_MAX], overlay[PATH_MAX], attached[PATH_MAX], device[PATH_MAX];
};

/* datapath-ctx.c: parse the URI, lock the SR, find the volume. */
int ops_dp_open(const char *uri, struct dp *d);
/* Only the runtime paths, from the URI's key (d->sr may be NULL). */
int ops_dp_open_orphan(const char *uri, struct dp *d);
int ops_dp_paths(struct dp *d, const char *key);
void ops_dp_close(struct dp *d);

/* datapath-server.c: the server process. */
bool ops_dp_server_running(const struct dp *d);
/* A live process proven to be the volume's server, answering or not. */
bool ops_dp_server_alive(const struct dp *d);
/* The chain below an image, nearest parent first. */
struct dp_chain {
	char path[NBD_MAX_CHAIN][PATH_MAX];
	size_t n;
};

/* The volume's chain below its leaf, from the metadata, held (active)
 * for the volume's server; leaf_room: the leaf grows to at least that
 * first if it was inactive (0: it does not; store_images_hold_room). */
int ops_dp_chain(const struct dp *d, struct dp_chain *c, uint64_t leaf_room);
/* Drop the server's hold on its images (after it stopped); leaf_end
 * (ops_dp_leaf_end; 0: none) is the room the leaf is then fitted to,
 * once no longer active (store_holder_release_fit). */
void ops_dp_let_go(const struct dp *d, uint64_t leaf_end);
/* datapath-stage.c: a server started before its images are ready.
 * Stage launches it (EBUSY if the volume's server is alive); go hands
 * it its arguments and waits until it listens; cancel ends it.  After
 * stage, exactly one of go and cancel; a failed go has cancelled. */
struct dp_stage {
	pid_t pid;                       /* the launcher, 0 once reaped */
	char fifo[PATH_MAX];
};
int ops_dp_server_stage(const struct dp *d, struct dp_stage *st);
int ops_dp_server_go(const struct dp *d, struct dp_stage *st, const char *image,
		     const struct dp_chain *c, bool readonly);
/* Keeps the last error. */
void ops_dp_server_cancel(struct dp_stage *st);
int ops_dp_server_stop(const struct dp *d);
int ops_dp_server_flush(const struct dp *d);
int ops_dp_overlay_create(const struct dp *d);
void ops_dp_overlay_remove(const struct dp *d);

/* datapath.c: give a writable leaf back the room attach gave it, now
 * (the leaf of a server gone), or as ops_dp_let_go ends: the image end
 * read while the server's hold keeps the leaf active (0: read-only, or
 * not known; that failure is logged). */
void ops_dp_shrink_leaf(struct dp *d);
uint64_t ops_dp_leaf_end(struct dp *d);

/* datapath-attached.c: the set of attached domains. */
/* Refuses domains of OPS_DOMAIN_MAX bytes or more, and more than
 * DP_ATTACHED_DOMAINS domains: the record stays within its own limit. */
int ops_dp_attached_add(const struct dp *d, const char *domain);
/* Returns how many remain, or -1. */
int ops_dp_attached_remove(const struct dp *d, const char *domain);

/* datapath-unit.c: the launcher of a server (systemd transient unit or
 * a detached process). */
#define DP_UNIT_ENV 32
#define DP_UNIT_ARGS (13 + DP_UNIT_ENV)
struct dp_unit {
	char *argv[DP_UNIT_ARGS];
	char unit[96], desc[128], pidfile[PATH_MAX + 32], start_timeout[48];
	char env[DP_UNIT_ENV][512];
	size_t nenv;
};
bool ops_dp_unit_systemd(void);
/* Fills u->argv with "systemd-run ... -- exe"; returns how many. */
size_t ops_dp_unit_prefix(const struct dp *d, struct dp_unit *u, const char *exe);

/* datapath-device.c: the dom0 block device (kernel NBD client). */
bool ops_dp_device_enabled(void);
/* Connects (or finds, when recorded and still ours) the volume's device;
 * *index -1 without a kernel NBD client. */
int ops_dp_device_attach(const struct dp *d, int *index);
/* Disconnects the recorded device if it is still ours; never fails. */
void ops_dp_device_detach(const struct dp *d);

#endif
