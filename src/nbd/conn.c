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
	pthread_cond_destroy(&c->cond);
	free(c);
}

static void *conn_main(void *arg)
{
	struct nbd_conn *c = arg;
	struct nbd_server *s = c->srv;

	log_debug("nbd[%u]: connected", c->id);
	if (nbd_handshake(c) == 0)
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
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->wlock, NULL);
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

void nbd_conn_start(struct nbd_server *s, int fd)
{
	struct nbd_conn *c;

	tune_socket(fd);
	pthread_mutex_lock(&s->lock);
	if (s->nconns >= NBD_MAX_CONNS || s->stopping || !(c = conn_new(s, fd))) {
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

void nbd_conn_job_done(struct nbd_conn *c, size_t bytes)
{
	pthread_mutex_lock(&c->lock);
	c->inflight--;
	c->inflight_bytes -= bytes;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void nbd_conn_shutdown_all(struct nbd_server *s, int how)
{
	pthread_mutex_lock(&s->lock);
	for (struct nbd_conn *c = s->conns; c; c = c->next)
		shutdown(c->fd, how);
	pthread_mutex_unlock(&s->lock);
}
