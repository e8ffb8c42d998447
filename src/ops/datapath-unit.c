/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-unit: how a server process is launched.  When systemd runs
 * the host, each server is its own transient service
 * (lvqcow-nbd-<volume key>), so that it lives in its own cgroup and a
 * restart of the toolstack's service does not kill every guest's disk;
 * otherwise it is a detached process (the server daemonizes itself).
 * Either way the server writes its pid file and is proven by it, so the
 * rest of the datapath does not care which launcher ran. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/log.h"
#include "datapath-int.h"

extern char **environ;

/* systemd's own test: the directory exists only when it is PID 1.
 * LVQCOW_SYSTEMD_PROBE replaces the path (tests). */
bool ops_dp_unit_systemd(void)
{
	const char *probe = getenv("LVQCOW_SYSTEMD_PROBE");

	return access(probe && *probe ? probe : "/run/systemd/system", F_OK) == 0;
}

static bool lvqcow_setting(const char *kv)
{
	return !strncmp(kv, "LVQCOW_", 7) && !strchr(kv, '\n');
}

/* A transient unit starts with systemd's environment, not ours: the
 * server's settings (LVQCOW_*) are passed on explicitly. */
static size_t add_env(struct dp_unit *u, size_t k)
{
	for (char **e = environ; *e && u->nenv < DP_UNIT_ENV; e++) {
		if (!lvqcow_setting(*e))
			continue;
		if (snprintf(u->env[u->nenv], sizeof u->env[0], "--setenv=%s", *e) >=
		    (int)sizeof u->env[0])
			continue;
		u->argv[k++] = u->env[u->nenv++];
	}
	return k;
}

/* The launcher's arguments before the server's own argv; returns how
 * many.  Type=forking: "lvqcow serve" forks and its parent exits once
 * the server is ready, so systemd-run returns after the start, with the
 * server's status, and systemd follows the daemon through PIDFile=. */
size_t ops_dp_unit_prefix(const struct dp *d, struct dp_unit *u, const char *exe)
{
	size_t k = 0;

	snprintf(u->unit, sizeof u->unit, "--unit=lvqcow-nbd-%s", d->vol.key);
	snprintf(u->desc, sizeof u->desc, "--description=lvqcow NBD server of volume %s",
		 d->vol.key);
	snprintf(u->pidfile, sizeof u->pidfile, "--property=PIDFile=%s", d->pid);
	u->argv[k++] = "systemd-run";
	u->argv[k++] = u->unit;
	u->argv[k++] = u->desc;
	u->argv[k++] = "--quiet";
	u->argv[k++] = "--collect";
	u->argv[k++] = "--service-type=forking";
	u->argv[k++] = u->pidfile;
	/* The start is the wait for the arguments and the setup, each
	 * bounded by the start timeout: systemd's own bound must not cut
	 * it shorter (its default is 90 s for both together). */
	snprintf(u->start_timeout, sizeof u->start_timeout, "--property=TimeoutStartSec=%d",
		 2 * (nbd_start_timeout_ms() / 1000 + 1) + 10);
	u->argv[k++] = u->start_timeout;
	/* The server drains and flushes on SIGTERM; only then SIGKILL. */
	u->argv[k++] = "--property=KillMode=mixed";
	u->argv[k++] = "--property=TimeoutStopSec=60";
	k = add_env(u, k);
	u->argv[k++] = "--";
	u->argv[k++] = (char *)exe;
	assert(k <= DP_UNIT_ARGS);
	return k;
}
