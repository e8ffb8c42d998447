/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-device: the dom0 block device of an attached volume, the
 * kernel's NBD client (/dev/nbdN) connected to the volume's server.
 * The run record <rundir>/nbd/<key>/device names N; the device itself
 * carries the backend identifier "lvqcow:<key>" (sysfs "backend"), so a
 * record is trusted only while the device still says it is ours — a
 * device is never disconnected or returned for another volume. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/env.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/log.h"
#include "lq/nbdkern.h"
#include "datapath-int.h"

/* Well above the server's pause limit (LVQCOW_NBD_PAUSE_LIMIT, 20 s):
 * a request stalled by a live snapshot or coalesce must never time out
 * in the kernel, which would fail it to the guest. */
#define DP_DEV_TIMEOUT_S 180

static void backend_id(const struct dp *d, char *out, size_t n)
{
	snprintf(out, n, "lvqcow:%s", d->vol.key);
}

/* The recorded device index, or -1. */
static int record_get(const struct dp *d)
{
	CLEANUP_FREE char *buf = NULL;
	size_t len;
	char *end;
	long v;

	if (file_read_all(d->device, 32, &buf, &len) < 0)
		return -1;
	v = strtol(buf, &end, 10);
	return end != buf && *end == '\n' && v >= 0 && v < 1 << 20 ? (int)v : -1;
}

static int record_put(const struct dp *d, int index)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", index);

	return file_write_atomic(d->device, buf, (size_t)n, 0600);
}

static void record_drop(const struct dp *d)
{
	if (unlink(d->device) < 0 && errno != ENOENT)
		log_warn("datapath: removing %s: %m", d->device);
}

/* Is /dev/nbdN connected and still carrying our backend identifier? */
static bool device_ours(const struct dp *d, int index)
{
	char want[96], have[96];
	bool connected;

	backend_id(d, want, sizeof want);
	if (nbdkern_status(index, &connected) < 0 || !connected ||
	    nbdkern_backend(index, have, sizeof have) < 0)
		return false;
	return !strcmp(want, have);
}

bool ops_dp_device_enabled(void)
{
	static bool said;

	if (!env_integer("LVQCOW_NBD_DEVICE", 1, 0, 1))
		return false;
	if (nbdkern_available())
		return true;
	if (!said)
		log_info("datapath: %s; returning the NBD URI without a block device",
			 err_last()->msg);
	said = true;
	return false;
}

/* Never fails: a device that cannot be proven ours is left alone. */
void ops_dp_device_detach(const struct dp *d)
{
	int index = record_get(d);

	if (index < 0)
		return;
	if (!device_ours(d, index))
		log_info("datapath: volume %s: /dev/nbd%d is no longer its device", d->vol.key,
			 index);
	else if (nbdkern_disconnect(index) < 0)
		log_error("datapath: volume %s: %s", d->vol.key, err_last()->msg);
	else
		log_info("datapath: volume %s: /dev/nbd%d disconnected", d->vol.key, index);
	record_drop(d);
}

/* *index -1 when the host has no kernel NBD client. */
int ops_dp_device_attach(const struct dp *d, int *index)
{
	struct nbdkern_opts o = {
		.timeout_s = (uint32_t)env_integer("LVQCOW_NBD_DEVICE_TIMEOUT", DP_DEV_TIMEOUT_S,
						   30, 3600),
		.dead_conn_timeout_s = 0,     /* a dead server fails I/O at once */
	};
	char id[96];

	*index = record_get(d);
	if (*index >= 0 && device_ours(d, *index))
		return 0;
	ops_dp_device_detach(d);
	*index = -1;
	if (!ops_dp_device_enabled())
		return 0;
	backend_id(d, id, sizeof id);
	o.backend = id;
	if (nbdkern_connect(d->sock, d->vol.key, &o, index) < 0)
		return -1;
	log_info("datapath: volume %s is /dev/nbd%d", d->vol.key, *index);
	if (record_put(d, *index) == 0)
		return 0;
	nbdkern_disconnect(*index);  /* unrecorded, it could never be released */
	return -1;
}
