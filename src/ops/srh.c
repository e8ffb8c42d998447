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

static int load_doc(struct ops_sr *h)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (store_meta_read(h->store, &buf, &len) < 0)
		return -1;
	rc = meta_parse(buf, len, &h->meta);
	free(buf);
	return rc;
}

int ops_sr_load(const char *type, const char *root, bool keep_lock, struct ops_sr **out)
{
	struct ops_sr *h;

	if (!(h = calloc(1, sizeof *h)) || !(h->sr = strdup(root))) {
		free(h);
		return err_set(ENOMEM, "out of memory");
	}
	snprintf(h->type, sizeof h->type, "%s", type);
	/* Readers share the lock: nothing is written for them. */
	if (store_open(type, root, &h->store) < 0 ||
	    store_lock(h->store, keep_lock ? STORE_EXCLUSIVE : STORE_SHARED) < 0)
		goto fail;
	h->locked = keep_lock;
	if (load_doc(h) < 0)
		goto fail;
	snprintf(h->uuid, sizeof h->uuid, "%s", h->meta->uuid);
	if (!keep_lock)
		store_unlock(h->store);
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
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!h->locked)
		return err_set(EINVAL, "SR %s: commit without the SR lock", h->sr);
	h->meta->generation++;
	if (meta_format(h->meta, &buf, &len) < 0) {
		h->meta->generation--;
		return -1;
	}
	rc = store_meta_write(h->store, buf, len);
	free(buf);
	return rc;
}

void ops_sr_close(struct ops_sr *h)
{
	if (!h)
		return;
	store_close(h->store); /* drops the lock with it */
	meta_free(h->meta);
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
	*out = meta_volume_find(sr->meta, key);
	if (!*out)
		return err_xapi(XERR_VOL_NOT_EXIST, "%.200s", key);
	return 0;
}
