/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/gc-live: the bulk copy of a live leaf coalesce (docs/gc.md).
 *
 * The leaf N of an attached volume may be written by its NBD server
 * alone, so the collector does not copy: it asks the server to stream
 * N's parent P into N ("stream N<TAB>P", the downward direction) and
 * polls it, bounded, until the server reports the whole export done and
 * flushed.  Guest I/O goes on meanwhile; nothing is paused.  A stream
 * that stops (detach, a snapshot's reopen, the server dying) changed no
 * guest view: the step is abandoned (ECANCELED) and the next scan
 * decides again.  A collector killed while polling leaves the server
 * streaming, which is harmless; the next run finds the stream running
 * (or done) and goes on from there.  The final switch is the common one
 * (gc-step.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lq/clock.h"
#include "lq/datapath.h"
#include "lq/env.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "gc-int.h"

#define LIVE_POLL_MS 100
/* No progress for this long (a server paused and never resumed) ends
 * the wait: the stream is cancelled and the step fails. */
#define LIVE_STALL_MS 120000

struct live_state {
	char state[16];
	unsigned long long done, total, copied;
	char error[256];            /* "" if none */
};

static int parse(const char *key, const char *reply, struct live_state *ls)
{
	const char *e;

	memset(ls, 0, sizeof *ls);
	if (sscanf(reply, "ok stream=%15s done=%llu total=%llu copied=%llu", ls->state, &ls->done,
		   &ls->total, &ls->copied) != 4)
		return err_set(EPROTO, "volume %s: unexpected stream reply: %.200s", key, reply);
	if ((e = strstr(reply, " error=")))
		snprintf(ls->error, sizeof ls->error, "%s", e + strlen(" error="));
	return 0;
}

/* Ask, or ask again: a stream already running for the pair is found. */
static int live_start(const struct gc_step *s, const char *child, const char *parent)
{
	char cmd[2 * PATH_MAX + 16], reply[1024];

	if (strchr(child, '\t') || strchr(parent, '\t') ||
	    (size_t)snprintf(cmd, sizeof cmd, "stream %s\t%s", child, parent) >= sizeof cmd)
		return err_set(EINVAL, "bad image path for a stream");
	if (ops_datapath_stream(s->volume, cmd, reply, sizeof reply) == 0)
		return 0;
	if (!ops_datapath_streamable(s->volume))
		return err_set(ECANCELED, "volume %s: its server is gone: coalesce abandoned",
			       s->volume);
	return -1; /* the server refused (recorded) */
}

/* 1 done, 0 still running, -1 stopped or failed (recorded). */
static int live_poll(const struct gc_step *s, struct live_state *ls)
{
	char reply[1024];

	if (ops_datapath_stream(s->volume, "stream-status", reply, sizeof reply) < 0) {
		struct err_record e = *err_last(); /* err_set writes over it */
		return err_set(ECANCELED, "volume %s: its server stopped answering (%s): "
			       "coalesce abandoned", s->volume, e.msg);
	}
	if (parse(s->volume, reply, ls) < 0)
		return -1;
	if (!strcmp(ls->state, "done"))
		return 1;
	if (!strcmp(ls->state, "running"))
		return 0;
	if (!strcmp(ls->state, "failed"))
		return err_set(EIO, "volume %s: the stream failed: %s", s->volume, ls->error);
	return err_set(ECANCELED, "volume %s: the stream ended (%s%s%s): coalesce abandoned",
		       s->volume, ls->state, ls->error[0] ? ": " : "", ls->error);
}

static void live_cancel(const struct gc_step *s)
{
	char reply[1024];

	if (ops_datapath_stream(s->volume, "stream-cancel", reply, sizeof reply) < 0)
		log_warn("gc: volume %s: cancelling the stream: %s", s->volume, err_last()->msg);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int live_wait(const char *sr_uuid, const struct gc_step *s)
{
	int64_t stall = env_integer("LVQCOW_GC_STREAM_STALL_MS", LIVE_STALL_MS, 100, INT32_MAX);
	int64_t moved = clock_now_ms();
	unsigned long long last = 0;
	struct live_state ls;
	int r;

	while ((r = live_poll(s, &ls)) == 0) {
		gc_status_set(sr_uuid, "streaming", s, ls.done, ls.total);
		fault_point("gc-coalesce.streaming");
		if (ls.done != last) {
			last = ls.done;
			moved = clock_now_ms();
		} else if (clock_now_ms() - moved > stall) {
			live_cancel(s);
			return err_set(ETIMEDOUT, "volume %s: the stream made no progress for %lld ms",
				       s->volume, (long long)stall);
		}
		sleep_ms(LIVE_POLL_MS);
	}
	if (r > 0) {
		gc_status_set(sr_uuid, "streaming", s, ls.total, ls.total);
		log_info("gc: volume %s: stream done, %llu bytes copied by its server", s->volume,
			 ls.copied);
	}
	return r > 0 ? 0 : -1;
}

int gc_live_start(const struct gc_step *s, const char *child, const char *parent)
{
	if (live_start(s, child, parent) < 0)
		return -1;
	log_info("gc: volume %s: its server streams %s into %s", s->volume, parent, child);
	return 0;
}

int gc_live_wait(const char *sr_uuid, const struct gc_step *s)
{
	return live_wait(sr_uuid, s);
}
