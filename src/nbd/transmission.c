/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* transmission: the request reader of one connection.  It decodes and
 * validates each request (wire.c), reads WRITE payloads, answers
 * invalid requests itself and queues valid ones to the worker pool.
 * A client can keep at most NBD_MAX_CONN_INFLIGHT requests and
 * NBD_MAX_CONN_BYTES of payload (and queued replies) in flight, and all
 * clients together the server's memory budget (budget.c); beyond that
 * the reader stops reading, which pushes back on the client through
 * the socket. */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "lq/log.h"
#include "lq/dio.h"
#include "nbd-int.h"

static size_t payload_bytes(const struct nbd_request *r)
{
	return r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE ? r->len : 0;
}

/* Reserves the request's memory before any of it is allocated: first
 * within the connection's caps, then within the server's.  Returns how
 * many requests the connection now has in flight. */
static unsigned throttle(struct nbd_conn *c, size_t bytes)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	while (c->inflight && (c->inflight >= NBD_MAX_CONN_INFLIGHT ||
			       c->inflight_bytes + c->out_bytes + bytes > NBD_MAX_CONN_BYTES))
		pthread_cond_wait(&c->cond, &c->lock);
	n = ++c->inflight;
	c->inflight_bytes += bytes;
	pthread_mutex_unlock(&c->lock);
	nbd_budget_take(c->srv, bytes);
	return n;
}

/* A WRITE's payload follows its header even when the request is
 * refused; it is consumed so the stream stays in step.  0: read (or
 * none), 1: skipped for lack of memory, -1: the connection is over. */
static int read_payload(struct nbd_conn *c, const struct nbd_request *r, bool refused,
			uint8_t **buf)
{
	if (r->type != NBD_CMD_WRITE || !r->len)
		return 0;
	if (refused)
		return nbd_skip(c->fd, r->len);
	if (!(*buf = dio_alloc(r->len)))
		return nbd_skip(c->fd, r->len) < 0 ? -1 : 1;
	return nbd_read_full(c->fd, *buf, r->len);
}

static void limits_of(struct nbd_conn *c, struct nbd_limits *l)
{
	l->size = c->size;
	l->max_payload = NBD_MAX_PAYLOAD;
	l->readonly = c->srv->opts.readonly;
	l->structured = c->structured;
	l->meta_base = c->meta_base;
}

/* Whether the client has already sent more: then this request goes to
 * the pool and the reader moves on to the next one. */
static bool more_pending(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) < 0 || n > 0;
}

/* A lone request (nothing else queued for this connection, nothing more
 * on the socket) runs on the reader thread: at queue depth 1 this saves
 * the hand-off to a worker, which is most of the server's latency. */
static int queue_job(struct nbd_conn *c, const struct nbd_request *r, uint8_t *buf,
		     bool first)
{
	struct nbd_job *j = calloc(1, sizeof *j);
	bool alone;

	if (!j) {
		free(buf);
		nbd_conn_job_done(c, payload_bytes(r));
		return nbd_reply_error(c, r, NBD_ENOMEM);
	}
	j->conn = c;
	j->req = *r;
	j->buf = buf;
	alone = first && !more_pending(c->fd);
	if (alone)
		nbd_job_run(j);
	else
		nbd_pool_push(c->srv, j);
	return 0;
}

/* 0: next request; -1: end the connection. */
static int handle(struct nbd_conn *c, const struct nbd_request *r)
{
	struct nbd_limits lim;
	uint8_t *buf = NULL;
	unsigned n;
	int err, got;

	limits_of(c, &lim);
	err = nbd_check_request(r, &lim);
	if (r->type == NBD_CMD_WRITE && r->len > NBD_MAX_PAYLOAD) {
		log_info("nbd[%u]: write of %u bytes exceeds the limit, dropping", c->id, r->len);
		return -1;
	}
	if (err) {
		log_debug("nbd[%u]: request type %u off %llu len %u refused: %d", c->id,
			  r->type, (unsigned long long)r->off, r->len, err);
		if (read_payload(c, r, true, &buf) < 0)
			return -1;
		return nbd_reply_error(c, r, (uint32_t)err);
	}
	n = throttle(c, payload_bytes(r));
	got = read_payload(c, r, false, &buf);
	if (got != 0) {
		free(buf);
		nbd_conn_job_done(c, payload_bytes(r));
		return got < 0 ? -1 : nbd_reply_error(c, r, NBD_ENOMEM);
	}
	return queue_job(c, r, buf, n == 1);
}

void nbd_transmission(struct nbd_conn *c)
{
	uint8_t h[NBD_REQUEST_SIZE];
	struct nbd_request r;

	while (nbd_read_full(c->fd, h, sizeof h) == 0) {
		if (nbd_parse_request(h, sizeof h, &r) < 0) {
			log_info("nbd[%u]: bad request magic, dropping", c->id);
			return;
		}
		if (r.type == NBD_CMD_DISC)
			return;
		if (handle(c, &r) < 0)
			break;
	}
	/* errno 0: a clean EOF between requests; a dropped stream was logged
	 * where it broke. */
	if (errno && !nbd_conn_dead(c))
		log_info("nbd[%u]: client disconnected mid-request (%m)", c->id);
}
