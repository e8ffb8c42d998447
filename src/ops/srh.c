/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/srh: the SR handle: store, SR lock and the loaded document. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/meta.h"
#include "lq/rpc.h"
#include "lq/rundir.h"
#include "lq/store.h"
#include "ops-int.h"

/* Records load on demand, so the lock is held until ops_sr_close even
 * for a read-only call; writable replays a pending transaction. */
static int load_area(struct ops_sr *h, bool writable)
{
	if (store_meta_open(h->store, writable, &h->meta_fd) < 0)
		return -1;
	return meta_open(h->meta_fd, writable, &h->meta);
}

int ops_sr_load(const char *type, const char *root, bool keep_lock, struct ops_sr **out)
{
	struct ops_sr *h;

	if (!(h = calloc(1, sizeof *h)) || !(h->sr = strdup(root))) {
		free(h);
		return err_set(ENOMEM, "out of memory");
	}
	h->meta_fd = -1;
	snprintf(h->type, sizeof h->type, "%s", type);
	/* Readers share the lock: nothing is written for them. */
	if (store_open(type, root, &h->store) < 0 ||
	    store_lock(h->store, keep_lock ? STORE_EXCLUSIVE : STORE_SHARED) < 0)
		goto fail;
	h->locked = keep_lock;
	if (load_area(h, keep_lock) < 0)
		goto fail;
	snprintf(h->uuid, sizeof h->uuid, "%s", h->meta->uuid);
	*out = h;
	return 0;
fail:
	ops_sr_close(h);
	return -1;
}

int ops_sr_open(const char *type, const char *sr, unsigned flags, struct ops_sr **out)
{
	struct ops_attachment a;
	int rc;

	if (ops_attach_find(type, sr, &a) < 0)
		return -1;
	rc = ops_sr_load(type, sr, flags & OPS_SR_LOCKED, out);
	if (rc == 0)
		(*out)->buffered = a.buffered;
	if (rc == 0 && strcmp((*out)->uuid, a.uuid)) {
		rc = err_xapi(XERR_SR_NOT_EXIST, "%s now holds SR %s, not the attached %s", sr,
			      (*out)->uuid, a.uuid);
		ops_sr_close(*out);
	}
	ops_attach_clear(&a);
	return rc;
}

int ops_sr_commit(struct ops_sr *h)
{
	if (!h->locked)
		return err_set(EINVAL, "SR %s: commit without the SR lock", h->sr);
	return meta_commit(h->meta);
}

void ops_sr_close(struct ops_sr *h)
{
	if (!h)
		return;
	store_close(h->store); /* drops the lock with it */
	meta_free(h->meta);
	if (h->meta_fd >= 0)
		close(h->meta_fd);
	free(h->sr);
	free(h);
}

int ops_sr_runtime_dir(const struct ops_sr *h, char *buf, size_t n)
{
	char sub[64];

	snprintf(sub, sizeof sub, "sr/%s", h->uuid);
	return rundir_path(sub, buf, n);
}

/* Best effort: a leftover directory only costs a few bytes of tmpfs. */
void ops_sr_forget_runtime(const char *uuid)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof dir, "%s/sr/%s/active", rundir_root(), uuid) >= (int)sizeof dir)
		return;
	rmdir(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

int ops_check_str(const char *what, const char *s)
{
	if (strlen(s) > OPS_STR_MAX)
		return err_xapi(XERR_INVALID, "%s is longer than %u bytes", what, OPS_STR_MAX);
	return 0;
}

int ops_find_volume(struct ops_sr *sr, const char *key, struct meta_volume **out)
{
	if (meta_volume_find(sr->meta, key, out) == 0)
		return 0;
	return err_errnum() == ENOENT ? err_xapi(XERR_VOL_NOT_EXIST, "%.200s", key) : -1;
}
