/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stream: the server's part of a live leaf coalesce (docs/gc.md).  The
 * only process that may write an attached volume's leaf is its server,
 * so the collector asks the server ("stream TOP<TAB>PARENT") to copy the
 * parent's clusters into the top where the top has nothing.  One thread
 * does it in chunks, each inside the gate like a request: a pause waits
 * for the chunk in hand and holds the stream with the requests, a reopen
 * (the chain changed: a snapshot, a resize) or the stop cancels it.  The
 * engine checks and writes each cluster under the image's lock, so guest
 * writes racing the stream always win.  A stream that is cancelled or
 * dies with the process has changed no guest view; the collector simply
 * asks again.  When the whole export is done the image is flushed, and
 * only then is the state "done": the top shadows its parent on disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "nbd-int.h"

/* Bounds how long a pause waits for the chunk in hand. */
#define STREAM_CHUNK (8u << 20)

static const char *const state_name[] = {
	[NBD_STREAM_IDLE] = "idle",     [NBD_STREAM_RUNNING] = "running",
	[NBD_STREAM_DONE] = "done",     [NBD_STREAM_FAILED] = "failed",
	[NBD_STREAM_CANCELLED] = "cancelled",
};

void nbd_stream_cancel_locked(struct nbd_server *s, const char *why)
{
	struct nbd_stream *st = &s->stream;

	if (st->state != NBD_STREAM_RUNNING || st->cancel)
		return;
	st->cancel = true;
	snprintf(st->msg, sizeof st->msg, "%s", why);
	pthread_cond_broadcast(&s->cond);
}

static void finish(struct nbd_server *s, enum nbd_stream_state state, const char *msg)
{
	struct nbd_stream *st = &s->stream;

	pthread_mutex_lock(&s->lock);
	if (st->cancel)
		state = NBD_STREAM_CANCELLED;
	else if (msg)
		snprintf(st->msg, sizeof st->msg, "%s", msg);
	st->state = state;
	pthread_mutex_unlock(&s->lock);
	log_info("stream of %s into %s: %s%s%s", st->parent, st->top, state_name[state],
		 st->msg[0] ? ": " : "", st->msg);
}

/* The chain served is still the one the stream was asked for (called
 * inside the gate, where no reopen can change it). */
static bool same_chain(const struct nbd_server *s)
{
	return !strcmp(s->chain.top, s->stream.top) && s->chain.n >= 1 &&
	       !strcmp(s->chain.backing[0], s->stream.parent);
}

/* One chunk inside the gate: 1 done, 0 cancelled, -1 failed. */
static int chunk(struct nbd_server *s, uint64_t off, uint64_t len, bool last)
{
	struct nbd_backend *be = nbd_gate_enter_stream(s);
	uint64_t bytes = 0;
	int r = 1;

	if (!be)
		return 0;
	if (!same_chain(s))
		r = err_set(ESTALE, "the chain changed");
	else if (be->ops->stream(be, off, len, &bytes) < 0 ||
		 (last && (be->ops->sync(be) < 0 || be->ops->flush(be) < 0)))
		r = -1;
	nbd_gate_leave(s);
	pthread_mutex_lock(&s->lock);
	if (r > 0) {
		s->stream.done = off + len;
		s->stream.copied += bytes;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void *stream_main(void *arg)
{
	struct nbd_server *s = arg;
	uint64_t total = s->stream.total;

	for (uint64_t off = 0; off < total;) {
		uint64_t len = MIN((uint64_t)STREAM_CHUNK, total - off);
		int r = chunk(s, off, len, off + len == total);
		if (r <= 0) {
			finish(s, r < 0 ? NBD_STREAM_FAILED : NBD_STREAM_CANCELLED,
			       r < 0 ? err_last()->msg : "stopped");
			return NULL;
		}
		off += len;
		fault_point("nbd-stream.chunk");
	}
	finish(s, NBD_STREAM_DONE, NULL);
	return NULL;
}

/* A previous stream's thread, once it has ended. */
static void reap(struct nbd_server *s)
{
	struct nbd_stream *st = &s->stream;

	if (st->joinable) {
		pthread_join(st->thread, NULL);
		st->joinable = false;
	}
	free(st->top);
	free(st->parent);
	st->top = st->parent = NULL;
}

static int check_start(struct nbd_server *s, const char *top, const char *parent)
{
	if (s->opts.readonly)
		return err_set(EPERM, "the export is read-only");
	if (!s->be || !s->be->ops->stream)
		return err_set(ENOTSUP, "this image cannot stream");
	if (strcmp(s->chain.top, top) || s->chain.n < 1 || strcmp(s->chain.backing[0], parent))
		return err_set(ESTALE, "the chain served is not %s on %s", top, parent);
	return 0;
}

/* Called by the control channel (one command at a time), never paused
 * by that same channel's lock.  Asking again for the stream that runs is
 * not an error: a restarted collector finds its stream still going. */
int nbd_stream_start(struct nbd_server *s, const char *top, const char *parent)
{
	struct nbd_stream *st = &s->stream;
	bool same;

	pthread_mutex_lock(&s->lock);
	same = st->state == NBD_STREAM_RUNNING && !st->cancel && !strcmp(st->top, top) &&
	       !strcmp(st->parent, parent);
	pthread_mutex_unlock(&s->lock);
	if (same)
		return 0;
	if (check_start(s, top, parent) < 0)
		return -1; /* a stream that runs is left alone */
	nbd_stream_stop(s);
	reap(s);
	if (!(st->top = strdup(top)) || !(st->parent = strdup(parent))) {
		reap(s);
		return err_set(ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&s->lock);
	*st = (struct nbd_stream){ .state = NBD_STREAM_RUNNING, .top = st->top,
				   .parent = st->parent, .total = s->size };
	pthread_mutex_unlock(&s->lock);
	if (pthread_create(&st->thread, NULL, stream_main, s) != 0) {
		pthread_mutex_lock(&s->lock);
		st->state = NBD_STREAM_FAILED;
		pthread_mutex_unlock(&s->lock);
		return err_set(EAGAIN, "cannot start the stream thread");
	}
	st->joinable = true;
	log_info("streaming %s into %s (%llu bytes)", parent, top, (unsigned long long)st->total);
	return 0;
}

void nbd_stream_stop(struct nbd_server *s)
{
	pthread_mutex_lock(&s->lock);
	nbd_stream_cancel_locked(s, "cancelled");
	pthread_mutex_unlock(&s->lock);
	if (s->stream.joinable) {
		pthread_join(s->stream.thread, NULL);
		s->stream.joinable = false;
	}
}

void nbd_stream_describe(struct nbd_server *s, char *buf, size_t n)
{
	struct nbd_stream *st = &s->stream;
	int k;

	pthread_mutex_lock(&s->lock);
	k = snprintf(buf, n, "stream=%s done=%llu total=%llu copied=%llu", state_name[st->state],
		     (unsigned long long)st->done, (unsigned long long)st->total,
		     (unsigned long long)st->copied);
	if (k > 0 && (size_t)k < n && st->msg[0] && st->state != NBD_STREAM_RUNNING)
		snprintf(buf + k, n - (size_t)k, " error=%s", st->msg);
	pthread_mutex_unlock(&s->lock);
}
