/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/attach: which SRs are attached on this host.
 *
 * One small JSON record per attached SR, <rundir>/attached/<sr uuid>,
 * holding the SR type, uuid and SR string, and how its volumes are served
 * ("cache": "none" or "writeback", from the device-config).  The rundir is emptied by a
 * reboot, as xapi expects (it re-plugs PBDs at boot).  Records are
 * replaced atomically; readers ignore files that do not parse. */
#include <dirent.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/log.h"
#include "lq/rpc.h"
#include "lq/rundir.h"
#include "ops-int.h"

#define ATTACH_DIR "attached"
#define ATTACH_MAX (1u << 20)

static int record_path(const char *uuid, char *buf, size_t n)
{
	char dir[PATH_MAX];

	if (rundir_path(ATTACH_DIR, dir, sizeof dir) < 0)
		return -1;
	if (snprintf(buf, n, "%s/%s", dir, uuid) >= (int)n)
		return err_set(ENAMETOOLONG, "runtime path too long");
	return 0;
}

int ops_attach_record(const char *type, const char *uuid, const char *sr, bool buffered)
{
	struct json_object *o = json_object_new_object();
	char path[PATH_MAX];
	const char *s;
	int rc = -1;

	if (!o)
		return err_set(ENOMEM, "out of memory");
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "sr", json_object_new_string(sr));
	json_object_object_add(o, "cache", json_object_new_string(buffered ? "writeback" : "none"));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (s && record_path(uuid, path, sizeof path) == 0)
		rc = file_write_atomic(path, s, strlen(s), 0600);
	else if (!s)
		err_set(ENOMEM, "out of memory");
	json_object_put(o);
	return rc;
}

static int copy_field(struct json_object *o, const char *k, char *buf, size_t n)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= n)
		return -1;
	memcpy(buf, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	return 0;
}

/* Parse one record file; false if it is not a valid record. */
static bool load_record(const char *path, struct ops_attachment *a)
{
	CLEANUP_FREE char *buf = NULL;
	struct json_object *o, *sr, *cache;
	size_t len;
	bool ok;

	memset(a, 0, sizeof *a);
	if (file_read_all(path, ATTACH_MAX, &buf, &len) < 0)
		return false;
	o = json_tokener_parse(buf);
	ok = o && copy_field(o, "type", a->type, sizeof a->type) == 0 &&
	     copy_field(o, "uuid", a->uuid, sizeof a->uuid) == 0 &&
	     json_object_object_get_ex(o, "sr", &sr) && json_object_is_type(sr, json_type_string) &&
	     (a->sr = strdup(json_object_get_string(sr)));
	/* A record without the field (older) serves with direct I/O. */
	if (ok && json_object_object_get_ex(o, "cache", &cache))
		a->buffered = !strcmp(json_object_get_string(cache), "writeback");
	json_object_put(o);
	if (!ok)
		ops_attach_clear(a);
	return ok;
}

void ops_attach_clear(struct ops_attachment *a)
{
	free(a->sr);
	a->sr = NULL;
}

int ops_attach_each(const char *type, int (*fn)(const struct ops_attachment *, void *), void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (rundir_path(ATTACH_DIR, dir, sizeof dir) < 0)
		return -1;
	if (!(d = opendir(dir)))
		return err_sys("opendir %s: %m", dir);
	while (rc == 0 && (e = readdir(d))) {
		struct ops_attachment a;
		if (!uuid_is_valid(e->d_name) ||
		    snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
			continue;
		if (!load_record(path, &a))
			continue;
		if (!type || !strcmp(a.type, type))
			rc = fn(&a, arg);
		ops_attach_clear(&a);
	}
	closedir(d);
	return rc;
}

struct find_ctx {
	const char *sr;
	struct ops_attachment *out;
};

static int find_one(const struct ops_attachment *a, void *arg)
{
	struct find_ctx *c = arg;

	if (strcmp(a->sr, c->sr))
		return 0;
	*c->out = *a;
	c->out->sr = strdup(a->sr);
	return c->out->sr ? 1 : err_set(ENOMEM, "out of memory");
}

int ops_attach_find(const char *type, const char *sr, struct ops_attachment *out)
{
	struct find_ctx c = { sr, out };
	int rc = ops_attach_each(type, find_one, &c);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_xapi(XERR_SR_NOT_ATTACHED, "%s", sr);
	return 0;
}

int ops_attach_forget(const char *uuid)
{
	char path[PATH_MAX];

	if (record_path(uuid, path, sizeof path) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys("unlink %s: %m", path);
	return 0;
}
