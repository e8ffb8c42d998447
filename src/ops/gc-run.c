/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/gc-run: the collector process of an SR: one at a time per SR (an
 * flock on <rundir>/sr/<uuid>/gc.lock), started detached after the calls
 * that make work for it, running steps until none is left.
 *
 * Each step takes the SR lock only to choose and to switch (see
 * gc-step.c), so calls keep their latency during a long copy.  A step
 * that finds the tree changed under it is dropped and the tree scanned
 * again; a step that fails is logged, and after GC_FAILURES failures in
 * a row the run ends (the next start tries again) instead of spinning. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lq/env.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/lock.h"
#include "lq/log.h"
#include "gc-int.h"
#include "ops-int.h"

#define GC_FAILURES 3
/* A foreground run waits this long for a running collector to finish. */
#define GC_WAIT_MS (10 * 60 * 1000)

/* The journal finished as far as it can be now.  A record that cannot
 * be (its image is open) must not keep the collector from its steps: it
 * is logged, and tried again before each step.  *sr is then opened
 * again, as its cache may hold a part of the replay. */
static int gc_replay(const char *type, const char *sr_str, struct ops_sr **sr)
{
	if (ops_sr_journal_replay(*sr) == 0)
		return 0;
	log_warn("SR %s: gc: journal: %s", (*sr)->sr, err_last()->msg);
	err_clear();
	ops_sr_close(*sr);
	*sr = NULL;
	return ops_sr_open(type, sr_str, OPS_SR_LOCKED, sr);
}

/* The SR's uuid, the journal replayed, and the activations of killed
 * calls and gone servers let go (the collector runs after every
 * snapshot and clone; SR.attach may not come again before a reboot). */
static int gc_begin(const char *type, const char *sr_str, char uuid[UUID_STR_LEN])
{
	struct ops_sr *sr;
	int rc;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	snprintf(uuid, UUID_STR_LEN, "%s", sr->uuid);
	rc = gc_replay(type, sr_str, &sr);
	if (rc == 0 && ops_dp_holds_prune(sr) < 0) {
		log_warn("SR %s: gc: activations of killed calls: %s", sr->sr, err_last()->msg);
		err_clear();
	}
	ops_sr_close(sr);
	return rc;
}

/* -1 on error, 0 if another collector runs (and wait is false), else
 * the descriptor holding the lock. */
static int gc_lock(const char *uuid, bool wait)
{
	char path[PATH_MAX];
	int fd;

	if (gc_runtime_path(uuid, "gc.lock", path, sizeof path) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys("open %s: %m", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (!wait) {
		close(fd);
		return 0;
	}
	if (lock_wait(fd, true, env_integer("LVQCOW_GC_WAIT_MS", GC_WAIT_MS, 0, INT32_MAX),
		      "the running collector") < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The SR (uuid) whose collector lock this process holds, or "". */
static char gc_held[UUID_STR_LEN];

int gc_lock_idle(const char *uuid, int *fd)
{
	int r;

	*fd = -1;
	if (!strcmp(gc_held, uuid))
		return 1;
	if ((r = gc_lock(uuid, false)) <= 0)
		return r;
	*fd = r;
	return 1;
}

static int gc_choose(const char *type, const char *sr_str, struct gc_step *s)
{
	struct ops_sr *sr;
	struct gc_tree t;
	int rc;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	/* A step that failed after its switch was committed left its record
	 * (an image the store would not remove yet): tried again here, not
	 * only by the next run, which may not come soon. */
	if (gc_replay(type, sr_str, &sr) < 0)
		return -1;
	rc = gc_tree_load(sr, &t);
	if (rc == 0) {
		rc = gc_step_next(sr, &t, s);
		gc_tree_free(&t);
	}
	ops_sr_close(sr);
	return rc;
}

static void gc_log_step(const char *sr_str, const struct gc_step *s)
{
	if (s->kind == GC_REMOVE)
		log_info("SR %s: gc: removing node %s, which nothing refers to", sr_str, s->node);
	else
		log_info("SR %s: gc: coalescing node %s with its parent %s%s%s", sr_str, s->node,
			 s->parent, s->volume[0] ? ", the leaf of volume " : "", s->volume);
}

/* Steps until none is left (or one, with OPS_GC_ONCE). */
static int gc_loop(const char *type, const char *sr_str, const char *uuid, unsigned flags)
{
	struct gc_step s;
	int failures = 0, done = 0;

	while (failures < GC_FAILURES) {
		if (gc_choose(type, sr_str, &s) < 0)
			return -1;
		if (s.kind == GC_NONE)
			break;
		gc_log_step(sr_str, &s);
		if (gc_step_run(type, sr_str, &s) == 0) {
			failures = 0;
			done++;
		} else if (err_errnum() == ESTALE || err_errnum() == ECANCELED) {
			log_info("SR %s: gc: %s", sr_str, err_last()->msg);
		} else {
			log_warn("SR %s: gc: %s", sr_str, err_last()->msg);
			failures++;
		}
		if (flags & OPS_GC_ONCE)
			break;
	}
	gc_status_set(uuid, "idle", NULL, 0, 0);
	if (failures >= GC_FAILURES)
		return err_set(EIO, "SR %s: gc stopped after %d failed steps in a row: %s", sr_str,
			       failures, err_last()->msg);
	return done;
}

int ops_gc_run(const char *type, const char *sr_str, unsigned flags)
{
	char uuid[UUID_STR_LEN];
	int fd, rc;

	if (gc_begin(type, sr_str, uuid) < 0 ||
	    (fd = gc_lock(uuid, !(flags & OPS_GC_IF_IDLE))) < 0)
		return -1;
	if (fd == 0) {
		log_info("SR %s: gc: another collector is running", sr_str);
		return 0;
	}
	snprintf(gc_held, sizeof gc_held, "%s", uuid);
	rc = gc_loop(type, sr_str, uuid, flags);
	gc_held[0] = '\0';
	close(fd);
	return rc;
}

/* ---- status ----------------------------------------------------------- */

static bool gc_running(const char *uuid)
{
	char path[PATH_MAX];
	int fd;
	bool busy;

	if (gc_runtime_path(uuid, "gc.lock", path, sizeof path) < 0 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return false;
	busy = flock(fd, LOCK_EX | LOCK_NB) < 0;
	close(fd);
	return busy;
}

static struct json_object *gc_last_status(const char *uuid)
{
	char path[PATH_MAX], *buf = NULL;
	struct json_object *o = NULL;
	size_t len;

	if (gc_runtime_path(uuid, "gc.json", path, sizeof path) == 0 &&
	    file_read_all(path, 64 * 1024, &buf, &len) == 0)
		o = json_tokener_parse(buf);
	free(buf);
	return o && json_object_is_type(o, json_type_object) ? o : (json_object_put(o), NULL);
}

int ops_gc_status(const char *type, const char *sr_str, struct json_object **out)
{
	struct ops_sr *sr;
	struct json_object *o, *last;
	bool running;

	if (ops_sr_open(type, sr_str, 0, &sr) < 0)
		return -1;
	/* The document was read before the lock was tried: a collector that
	 * ended in between would show "not running" with the count of its
	 * last record.  Read again once it is known to have ended. */
	running = gc_running(sr->uuid);
	if (!running) {
		ops_sr_close(sr);
		if (ops_sr_open(type, sr_str, 0, &sr) < 0)
			return -1;
	}
	if (!(o = json_object_new_object())) {
		ops_sr_close(sr);
		return err_set(ENOMEM, "out of memory");
	}
	json_object_object_add(o, "sr", json_object_new_string(sr->sr));
	json_object_object_add(o, "running", json_object_new_boolean(running));
	json_object_object_add(o, "journal", json_object_new_int64((int64_t)sr->meta->njournal));
	if ((last = gc_last_status(sr->uuid)))
		json_object_object_add(o, "last", last);
	ops_sr_close(sr);
	*out = o;
	return 0;
}

/* ---- starting one ------------------------------------------------------- */

/* Grandchild: no descriptor of the call survives (xapi-storage-script
 * waits for the call's pipes to close), its log goes to gc.log. */
static void gc_exec(const char *type, const char *sr_str, const char *log)
{
	char *argv[] = { "lvqcow", "gc", "--detached", "--type", (char *)type, (char *)sr_str, NULL };
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int err = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (null < 0)
		_exit(127);
	dup2(null, 0);
	dup2(null, 1);
	dup2(err >= 0 ? err : null, 2);
	close_range(3, ~0u, 0);
	execv("/proc/self/exe", argv);
	_exit(127);
}

bool ops_gc_auto(void)
{
	return env_integer("LVQCOW_GC_AUTO", 1, 0, 1) != 0;
}

void ops_gc_kick(const struct ops_sr *sr)
{
	char log[PATH_MAX];
	pid_t pid;
	int status;

	if (!ops_gc_auto() ||
	    ops_sr_runtime_dir(sr, log, sizeof log) < 0 ||
	    strlen(log) + sizeof "/gc.log" > sizeof log)
		return;
	strcat(log, "/gc.log");
	pid = fork();
	if (pid < 0) {
		log_warn("SR %s: starting the collector: fork: %m", sr->sr);
		return;
	}
	if (pid == 0) {
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		gc_exec(sr->type, sr->sr, log);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}
