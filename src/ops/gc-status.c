/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/gc-status: <rundir>/sr/<uuid>/gc.json, what the running collector
 * is doing, replaced atomically at every change and at most twice a
 * second during a copy; read by `lvqcow gc --status`.  Best effort: a
 * collector never fails because its status could not be written. */
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lq/clock.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/log.h"
#include "lq/rundir.h"
#include "gc-int.h"
#include "ops-int.h"

#define GC_STATUS_EVERY_MS 500

static const char *kind_name(enum gc_kind k)
{
	return k == GC_REMOVE ? "remove" : k == GC_COALESCE ? "coalesce" : "none";
}

static struct json_object *status_json(const char *state, const struct gc_step *s,
				       uint64_t done, uint64_t total)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	if (s && s->kind != GC_NONE) {
		json_object_object_add(o, "step", json_object_new_string(kind_name(s->kind)));
		json_object_object_add(o, "node", json_object_new_string(s->node));
		if (s->parent[0])
			json_object_object_add(o, "parent", json_object_new_string(s->parent));
		if (s->volume[0])
			json_object_object_add(o, "volume", json_object_new_string(s->volume));
		json_object_object_add(o, "done", json_object_new_int64((int64_t)done));
		json_object_object_add(o, "total", json_object_new_int64((int64_t)total));
	}
	return o;
}

/* <rundir>/sr/<uuid>/<name>: the collector's runtime files. */
int gc_runtime_path(const char *sr_uuid, const char *name, char *buf, size_t n)
{
	char dir[PATH_MAX], sub[64];

	snprintf(sub, sizeof sub, "sr/%s", sr_uuid);
	if (rundir_path(sub, dir, sizeof dir) < 0)
		return -1;
	if ((size_t)snprintf(buf, n, "%s/%s", dir, name) >= n)
		return err_set(ENAMETOOLONG, "runtime path too long under %s", dir);
	return 0;
}

void gc_status_set(const char *sr_uuid, const char *state, const struct gc_step *s, uint64_t done,
		   uint64_t total)
{
	static long long last;
	char path[PATH_MAX];
	struct json_object *o;
	const char *text;
	long long now = clock_now_ms();

	if (done && done < total && now - last < GC_STATUS_EVERY_MS)
		return;
	last = now;
	if (gc_runtime_path(sr_uuid, "gc.json", path, sizeof path) < 0 || !(o = status_json(state, s, done, total)))
		return;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (file_write_atomic(path, text, strlen(text), 0644) < 0)
		log_warn("gc: status: %s", err_last()->msg);
	json_object_put(o);
}
