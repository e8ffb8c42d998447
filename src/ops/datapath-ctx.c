/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-ctx: what every Datapath call starts with — the volume URI
 * parsed, the SR opened under its lock (datapath calls on one SR run
 * one at a time, like every change to it), the volume looked up, and
 * the paths of its server's runtime files. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lq/err.h"
#include "lq/rundir.h"
#include "lq/uuid.h"
#include "datapath-int.h"

int ops_dp_paths(struct dp *d, const char *key)
{
	static const struct { size_t off; const char *name; } files[] = {
		{ offsetof(struct dp, sock), "sock" },
		{ offsetof(struct dp, ctl), "ctl" },
		{ offsetof(struct dp, pid), "pid" },
		{ offsetof(struct dp, log), "log" },
		{ offsetof(struct dp, overlay), "overlay.qcow2" },
		{ offsetof(struct dp, attached), "attached" },
		{ offsetof(struct dp, device), "device" },
	};
	char sub[64];

	/* Only a uuid is safe in a path. */
	if (!uuid_is_valid(key))
		return err_set(EINVAL, "unexpected volume key %.64s", key);
	snprintf(sub, sizeof sub, "nbd/%s", key);
	if (rundir_path(sub, d->dir, sizeof d->dir) < 0)
		return -1;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *p = (char *)d + files[i].off;
		if (snprintf(p, PATH_MAX, "%s/%s", d->dir, files[i].name) >= PATH_MAX)
			return err_set(ENAMETOOLONG, "runtime path too long under %s", d->dir);
	}
	return 0;
}

int ops_dp_open(const char *uri, struct dp *d)
{
	memset(d, 0, sizeof *d);
	if (ops_uri_parse(uri, &d->uri) < 0)
		return -1;
	if (ops_sr_open(d->uri.type, d->uri.sr, OPS_SR_LOCKED, &d->sr) < 0 ||
	    ops_volume_lookup_meta(d->sr, d->uri.key, &d->vol) < 0 ||
	    ops_dp_paths(d, d->vol.key) < 0) {
		ops_dp_close(d);
		return -1;
	}
	return 0;
}

/* For detach, which must clean up even when the volume (or its whole
 * SR) is gone: the runtime files are found from the URI's key alone. */
int ops_dp_open_orphan(const char *uri, struct dp *d)
{
	memset(d, 0, sizeof *d);
	if (ops_uri_parse(uri, &d->uri) < 0)
		return -1;
	if (ops_sr_open(d->uri.type, d->uri.sr, OPS_SR_LOCKED, &d->sr) < 0)
		d->sr = NULL;
	if (ops_dp_paths(d, d->uri.key) < 0) {
		ops_dp_close(d);
		return -1;
	}
	snprintf(d->vol.key, sizeof d->vol.key, "%s", d->uri.key);
	return 0;
}

void ops_dp_close(struct dp *d)
{
	ops_sr_close(d->sr);
	d->sr = NULL;
	ops_uri_clear(&d->uri);
}
