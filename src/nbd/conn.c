/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conn: one client connection's life — registration with the server,
 * its thread (handshake, then the request reader), draining its
 * in-flight requests and releasing it. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lq/log.h"
#include "nbd-int.h"

static unsigned next_id;

static void conn_register(struct nbd_server *s, struct nbd_conn *c)
{
	c->next = s->conns;
	c->pprev = &s->conns;
	if (s->conns)
		s->conns->pprev = &c->next;
	s->conns = c;
	s->nconns++;
}

static void conn_unregister(struct nbd_server *s, struct nbd_conn *c)
{
	pthread_mutex_lock(&s->lock);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	s->nconns--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Workers still hold the connection until their replies are sent. */
static void conn_drain(struct nbd_conn *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->inflight)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

static void conn_free(struct nbd_conn *c)
{
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->wlock);
	pthread_cond_destroy(&c->wcond);
	pthread_cond_destroy(&c->cond);
	free(c);
}

/* False if the connection was dropped meanwhile (deadline, eviction). */
static bool handshake_done(struct nbd_conn *c)
{
	bool ok;

	pthread_mutex_lock(&c->srv->lock);
	c->in_handshake = false;
	ok = !c->evicted;
	pthread_mutex_unlock(&c->srv->lock);
	return ok;
}

static void *conn_main(void *arg)
{
	struct nbd_conn *c = arg;
	struct nbd_server *s = c->srv;

	log_debug("nbd[%u]: connected", c->id);
	if (nbd_handshake(c) == 0 && handshake_done(c))
		nbd_transmission(c);
	conn_drain(c);
	log_debug("nbd[%u]: closed", c->id);
	conn_unregister(s, c);
	conn_free(c);
	return NULL;
}

static struct nbd_conn *conn_new(struct nbd_server *s, int fd)
{
	struct nbd_conn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	c->outq_tail = &c->outq;
	c->in_handshake = true;
	c->hs_deadline = nbd_deadline(s->bounds.handshake_ms);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->wlock, NULL);
	pthread_cond_init(&c->wcond, NULL);
	pthread_cond_init(&c->cond, NULL);
	return c;
}

static int conn_spawn(struct nbd_conn *c)
{
	pthread_attr_t a;
	pthread_t t;
	int r;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &a, conn_main, c);
	pthread_attr_destroy(&a);
	return r;
}

/* Large READ replies stall less on a bigger send buffer (the kernel
 * caps it at net.core.wmem_max). */
static void tune_socket(int fd)
{
	int sndbuf = NBD_SOCKET_SNDBUF;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
}

/* s->lock held.  Shutting the socket makes the connection's thread
 * end on its own; it keeps its place in the list until then. */
static void evict(struct nbd_conn *c, const char *why)
{
	c->evicted = true;
	shutdown(c->fd, SHUT_RDWR);
	log_info("nbd[%u]: %s", c->id, why);
}

void nbd_conn_reap_handshakes(struct nbd_server *s)
{
	int64_t now = clock_now_ms();

	pthread_mutex_lock(&s->lock);
	for (struct nbd_conn *c = s->conns; c; c = c->next)
		if (c->in_handshake && !c->evicted && now >= c->hs_deadline)
			evict(c, "handshake not finished in time, dropping");
	pthread_mutex_unlock(&s->lock);
}

/* s->lock held.  Connections that never finish their handshake must not
 * lock out a client that would: when every place is taken, the oldest
 * one still in its handshake makes room. */
static unsigned live_conns(struct nbd_server *s)
{
	struct nbd_conn *oldest = NULL;
	unsigned live = 0;

	for (struct nbd_conn *c = s->conns; c; c = c->next) {
		live += !c->evicted;
		if (c->in_handshake && !c->evicted)
			oldest = c;       /* the list is newest first */
	}
	if (live >= NBD_MAX_CONNS && oldest) {
		evict(oldest, "all places taken; dropping the oldest unfinished handshake");
		live--;
	}
	return live;
}

void nbd_conn_start(struct nbd_server *s, int fd)
{
	struct nbd_conn *c;

	tune_socket(fd);
	pthread_mutex_lock(&s->lock);
	if (live_conns(s) >= NBD_MAX_CONNS || s->nconns >= 2 * NBD_MAX_CONNS ||
	    s->stopping || !(c = conn_new(s, fd))) {
		pthread_mutex_unlock(&s->lock);
		log_warn("nbd: refusing a connection (%u open)", s->nconns);
		close(fd);
		return;
	}
	c->id = ++next_id;
	conn_register(s, c);
	pthread_mutex_unlock(&s->lock);
	if (conn_spawn(c) != 0) {
		log_error("nbd: cannot start a connection thread");
		conn_unregister(s, c);
		conn_free(c);
	}
}

/* The budget first: once inflight drops to 0 the connection's thread
 * may free c. */
void nbd_conn_job_done(struct nbd_conn *c, size_t bytes)
{
	nbd_budget_give(c->srv, bytes);
	pthread_mutex_lock(&c->lock);
	c->inflight--;
	c->inflight_bytes -= bytes;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Queued replies count against the connection's and the server's caps
 * like the requests they answer. */
void nbd_conn_out_charge(struct nbd_conn *c, size_t bytes, bool add)
{
	pthread_mutex_lock(&c->lock);
	if (add)
		c->out_bytes += bytes;
	else
		c->out_bytes -= bytes;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (add)
		nbd_budget_charge(c->srv, bytes);
	else
		nbd_budget_give(c->srv, bytes);
}

bool nbd_conn_dead(struct nbd_conn *c)
{
	bool dead;

	pthread_mutex_lock(&c->wlock);
	dead = c->dead;
	pthread_mutex_unlock(&c->wlock);
	return dead;
}

void nbd_conn_shutdown_all(struct nbd_server *s, int how)
{
	pthread_mutex_lock(&s->lock);
	for (struct nbd_conn *c = s->conns; c; c = c->next)
		shutdown(c->fd, how);
	pthread_mutex_unlock(&s->lock);
}
