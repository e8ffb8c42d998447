/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gate: every request passes through here to reach the image.  The
 * in-flight count lets the control channel pause (no new request
 * starts; running ones finish), flush, swap the image under a changed
 * chain (live snapshot, coalesce) and resume. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lq/clock.h"
#include "lq/err.h"
#include "lq/log.h"
#include "nbd-int.h"

struct nbd_backend *nbd_gate_enter(struct nbd_server *s)
{
	struct nbd_backend *be;

	pthread_mutex_lock(&s->lock);
	if (s->paused && !s->stopping)
		s->held++;
	while (s->paused && !s->stopping)
		pthread_cond_wait(&s->cond, &s->lock);
	/* Stopping while paused: the chain held may by now belong to a
	 * snapshot, so what waited is refused, never served from it. */
	be = s->paused ? NULL : s->be;
	if (be)
		s->inflight++;
	pthread_mutex_unlock(&s->lock);
	if (!be)
		err_set(EIO, s->paused ? "the server stopped while paused"
				       : "the image could not be reopened");
	return be;
}

/* The stream waits out a pause like a request, but a cancel (a reopen,
 * the stop) wakes it and keeps it out. */
struct nbd_backend *nbd_gate_enter_stream(struct nbd_server *s)
{
	struct nbd_backend *be = NULL;

	pthread_mutex_lock(&s->lock);
	while (s->paused && !s->stopping && !s->stream.cancel)
		pthread_cond_wait(&s->cond, &s->lock);
	if (!s->stopping && !s->stream.cancel)
		be = s->be;
	if (be)
		s->inflight++;
	pthread_mutex_unlock(&s->lock);
	return be;
}

void nbd_gate_leave(struct nbd_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->served++;
	if (--s->inflight == 0)
		pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* While requests still flow, sync the data written so far (inside the
 * gate, like a request): the flush under the pause then has little left
 * to write, and the pause is short. */
static void presync(struct nbd_server *s)
{
	struct nbd_backend *be = NULL;

	pthread_mutex_lock(&s->lock);
	if (!s->paused && s->be && s->be->ops->sync) {
		be = s->be;
		s->inflight++;
	}
	pthread_mutex_unlock(&s->lock);
	if (!be)
		return;
	if (be->ops->sync(be) < 0)
		log_warn("pause: syncing data: %s", err_last()->msg);
	pthread_mutex_lock(&s->lock);
	if (--s->inflight == 0)
		pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Returns with no request inside the gate and everything flushed. */
int nbd_gate_pause(struct nbd_server *s)
{
	struct nbd_backend *be;

	presync(s);
	pthread_mutex_lock(&s->lock);
	if (!s->paused) {
		s->paused_at = s->pause_began = clock_now_ms();
		s->pauses++;
	}
	s->paused = true;
	while (s->inflight)
		pthread_cond_wait(&s->cond, &s->lock);
	be = s->be;
	pthread_mutex_unlock(&s->lock);
	return be ? be->ops->flush(be) : 0;
}

void nbd_gate_resume(struct nbd_server *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->paused)
		s->paused_ms += (uint64_t)(clock_now_ms() - s->pause_began);
	s->paused = false;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void nbd_gate_take_size(struct nbd_conn *c)
{
	pthread_mutex_lock(&c->srv->lock);
	c->size = c->srv->size;
	pthread_mutex_unlock(&c->srv->lock);
}

/* The size the server started with, or the largest size a connected
 * client was told (s->lock held).  Only connected clients pin a grown
 * size: once those that saw it are gone, a reopen may go back to the
 * original image. */
static uint64_t size_floor(struct nbd_server *s)
{
	uint64_t floor = s->start_size;

	for (struct nbd_conn *c = s->conns; c; c = c->next)
		floor = MAX(floor, c->size);
	return floor;
}

/* Checked and installed under one lock hold, so no client can be told
 * a size between the check and the swap.  On success the server takes
 * over *ch. */
static int install(struct nbd_server *s, struct nbd_backend *be, struct nbd_chain *ch)
{
	uint64_t floor, size = be->size;

	pthread_mutex_lock(&s->lock);
	floor = size_floor(s);
	if (size >= floor) {
		s->be = be;
		s->size = size;
	}
	pthread_mutex_unlock(&s->lock);
	if (size >= floor) {
		nbd_chain_free(&s->chain);
		s->chain = *ch;
		*ch = (struct nbd_chain){ 0 };
		return 0;
	}
	nbd_backend_close(be);
	return err_set(EINVAL, "%s: virtual size %llu is smaller than a connected client's "
		       "export (%llu)", ch->top, (unsigned long long)size, (unsigned long long)floor);
}

/* The chain that was there before a failed reopen: no floor check, it
 * is what every client was serving from. */
static void install_old(struct nbd_server *s, struct nbd_backend *be)
{
	pthread_mutex_lock(&s->lock);
	s->be = be;
	pthread_mutex_unlock(&s->lock);
}

/* Must be called paused.  The old chain is closed first: the new top
 * may be the same file, and two writable handles on one image would
 * fight over its metadata. */
int nbd_gate_reopen(struct nbd_server *s, struct nbd_chain *ch)
{
	struct nbd_backend *old = s->be, *be = NULL;
	struct err_record saved;

	pthread_mutex_lock(&s->lock);
	s->be = NULL;
	nbd_stream_cancel_locked(s, "the chain was reopened");
	pthread_mutex_unlock(&s->lock);
	if (old && nbd_backend_close(old) < 0)
		log_error("reopen: closing %s: %s", s->chain.top, err_last()->msg);
	if (nbd_backend_open(ch, &s->opts, &be) == 0 &&
	    install(s, be, ch) == 0)
		return 0;
	saved = *err_last();
	nbd_chain_free(ch);
	if (nbd_backend_open(&s->chain, &s->opts, &be) == 0)
		install_old(s, be);
	else
		log_error("reopen: %s cannot be reopened either: %s", s->chain.top, err_last()->msg);
	err_set(saved.errnum, "%s", saved.msg);
	return -1;
}
