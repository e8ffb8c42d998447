/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reply: putting replies on a client's socket.  Workers answer out of
 * order; one thread at a time writes a connection's replies, each
 * whole.  A worker whose reply is ready waits briefly for the writer;
 * if the writer is stuck on a slow client, the reply is copied onto a
 * queue behind it and the worker moves on.  Writes are bounded (send_ms): a client that
 * stops reading is cut off.  A failed write leaves the stream unusable:
 * the connection is marked dead and shut down, its reader then ends,
 * and the disconnect is logged once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lq/log.h"
#include "nbd-int.h"

uint32_t nbd_errno_to_wire(int e)
{
	switch (e) {
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ENOTSUP:
		return NBD_ENOTSUP;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

/* A reply waiting behind the connection's sender.  Its small pieces
 * (headers) are copied; a data buffer the caller gives up (give) is
 * referenced and freed once sent, so a queued READ costs no copy. */
struct nbd_out {
	struct nbd_out *next;
	size_t len;
	void *owned;
	int n;
	struct iovec iov[];     /* then the copied bytes */
};

static bool within(const struct iovec *v, const struct nbd_give *g)
{
	const uint8_t *b = v->iov_base, *o = g ? g->buf : NULL;

	return o && b >= o && b + v->iov_len <= o + g->len;
}

static size_t copied_bytes(const struct iovec *iov, int n, const struct nbd_give *g)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		if (!within(&iov[i], g))
			len += iov[i].iov_len;
	return len;
}

static struct nbd_out *out_new(const struct iovec *iov, int n, struct nbd_give *g)
{
	struct nbd_out *o = malloc(sizeof *o + sizeof(struct iovec) * (size_t)n +
				   copied_bytes(iov, n, g));
	uint8_t *copy;

	if (!o)
		return NULL;
	*o = (struct nbd_out){ .n = n };
	copy = (uint8_t *)(o->iov + n);
	for (int i = 0; i < n; i++) {
		o->iov[i] = iov[i];
		o->len += iov[i].iov_len;
		if (within(&iov[i], g))
			continue;
		memcpy(copy, iov[i].iov_base, iov[i].iov_len);
		o->iov[i].iov_base = copy;
		copy += iov[i].iov_len;
	}
	if (g && g->buf) {
		o->owned = g->buf;
		g->buf = NULL;
	}
	return o;
}

static void out_free(struct nbd_out *o)
{
	free(o->owned);
	free(o);
}

/* Once: the stream is broken, the reader must end, queued replies go.
 * Called with wlock held. */
static void kill_stream(struct nbd_conn *c, int e)
{
	if (c->dead)
		return;
	c->dead = true;
	pthread_cond_broadcast(&c->wcond);
	shutdown(c->fd, SHUT_RDWR);
	if (e == ETIMEDOUT)
		log_warn("nbd[%u]: the client does not read its replies; disconnecting", c->id);
	else
		log_info("nbd[%u]: client disconnected while being answered", c->id);
}

static void drop_queue(struct nbd_conn *c)
{
	struct nbd_out *o = c->outq, *next;
	size_t bytes = 0;

	for (; o; o = next) {
		next = o->next;
		bytes += o->len;
		out_free(o);
	}
	c->outq = NULL;
	c->outq_tail = &c->outq;
	if (bytes)
		nbd_conn_out_charge(c, bytes, false);
}

/* Another thread is writing: queue the reply rather than wait, so one
 * slow client ties up one worker at most, never the pool. */
static int enqueue(struct nbd_conn *c, const struct iovec *iov, int n, struct nbd_give *g)
{
	struct nbd_out *o = out_new(iov, n, g);

	if (!o) {
		kill_stream(c, ENOMEM);
		return -1;
	}
	if (!c->outq_tail)
		c->outq_tail = &c->outq;
	*c->outq_tail = o;
	c->outq_tail = &o->next;
	nbd_conn_out_charge(c, o->len, true);
	return 0;
}

static struct nbd_out *dequeue(struct nbd_conn *c)
{
	struct nbd_out *o = c->outq;

	if (o && !(c->outq = o->next))
		c->outq_tail = &c->outq;
	return o;
}

/* The sender: its own reply, then whatever others queued meanwhile.
 * Each write has send_ms to complete. */
static int send_as_sender(struct nbd_conn *c, struct iovec *iov, int n)
{
	int ms = c->srv->bounds.send_ms;
	int r = nbd_writev_full(c->fd, iov, n, ms), e = errno, mine = r;
	struct nbd_out *o;

	for (;;) {
		pthread_mutex_lock(&c->wlock);
		if (r < 0) {
			kill_stream(c, e);
			drop_queue(c);
		}
		if (r < 0 || !(o = dequeue(c))) {
			c->sending = false;
			pthread_cond_signal(&c->wcond);
			pthread_mutex_unlock(&c->wlock);
			return mine;
		}
		pthread_mutex_unlock(&c->wlock);
		r = nbd_writev_full(c->fd, o->iov, o->n, ms);
		e = errno;
		nbd_conn_out_charge(c, o->len, false);
		out_free(o);
	}
}

/* A healthy sender finishes within moments: waiting that long for it
 * costs less than copying the reply.  Beyond, the client is slow and
 * the reply is queued so this worker moves on. */
static void wait_sender(struct nbd_conn *c)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += NBD_SENDER_WAIT_MS * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (c->sending && !c->dead && pthread_cond_timedwait(&c->wcond, &c->wlock, &dl) == 0)
		;
}

/* Writes (or queues) a whole reply; the caller's iovec array is
 * consumed.  A reply whose data can be given up is queued at once (no
 * copy to avoid); others wait briefly for the sender first. */
static int send_locked(struct nbd_conn *c, struct iovec *iov, int n, struct nbd_give *g)
{
	bool sender = false;
	int r = 0;

	pthread_mutex_lock(&c->wlock);
	if (!g || !g->buf)
		wait_sender(c);
	if (c->dead)
		r = -1;
	else if (c->sending)
		r = enqueue(c, iov, n, g);
	else
		sender = c->sending = true;
	pthread_mutex_unlock(&c->wlock);
	return sender ? send_as_sender(c, iov, n) : r;
}

static int reply_simple(struct nbd_conn *c, uint64_t cookie, uint32_t err,
			const void *data, size_t len, struct nbd_give *g)
{
	uint8_t h[16];
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof h },
		{ .iov_base = (void *)data, .iov_len = len },
	};

	be32_put(h, NBD_SIMPLE_REPLY_MAGIC);
	be32_put(h + 4, err);
	be64_put(h + 8, cookie);
	return send_locked(c, iov, len ? 2 : 1, g);
}

int nbd_reply_simple(struct nbd_conn *c, uint64_t cookie, uint32_t err,
		     const void *data, size_t len)
{
	return reply_simple(c, cookie, err, data, len, NULL);
}

int nbd_reply_data(struct nbd_conn *c, uint64_t cookie, struct nbd_give *g)
{
	return reply_simple(c, cookie, 0, g->buf, g->len, g);
}

int nbd_reply_chunk(struct nbd_conn *c, uint64_t cookie, uint16_t flags,
		    uint16_t type, struct iovec *payload, int npayload)
{
	struct iovec iov[8];
	uint8_t h[20];
	size_t len = 0;

	if (npayload > 7)
		return -1;
	for (int i = 0; i < npayload; i++) {
		len += payload[i].iov_len;
		iov[i + 1] = payload[i];
	}
	be32_put(h, NBD_STRUCTURED_REPLY_MAGIC);
	be16_put(h + 4, flags);
	be16_put(h + 6, type);
	be64_put(h + 8, cookie);
	be32_put(h + 16, (uint32_t)len);
	iov[0] = (struct iovec){ .iov_base = h, .iov_len = sizeof h };
	return send_locked(c, iov, npayload + 1, NULL);
}

/* A structured error carries no message: the client has only the
 * errno to act on, and messages stay in our log. */
int nbd_reply_error(struct nbd_conn *c, const struct nbd_request *r, uint32_t err)
{
	uint8_t p[6];
	struct iovec iov = { .iov_base = p, .iov_len = sizeof p };

	if (!c->structured)
		return nbd_reply_simple(c, r->cookie, err, NULL, 0);
	be32_put(p, err);
	be16_put(p + 4, 0);
	return nbd_reply_chunk(c, r->cookie, NBD_REPLY_FLAG_DONE,
			       NBD_REPLY_TYPE_ERROR, &iov, 1);
}

int nbd_reply_ok(struct nbd_conn *c, const struct nbd_request *r)
{
	return nbd_reply_simple(c, r->cookie, 0, NULL, 0);
}

int nbd_reply_iov(struct nbd_conn *c, struct iovec *iov, int n, struct nbd_give *g)
{
	return send_locked(c, iov, n, g);
}
