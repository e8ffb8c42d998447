/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* budget: the server-wide bound on memory held for requests — WRITE
 * payloads read, READ buffers to fill, and replies queued behind a
 * slow reader.  The per-connection caps (transmission.c) keep one
 * client from hogging it; this one bounds the sum over all clients.
 * Also the rate limit on request failure lines in the log. */
#include <assert.h>

#include "lq/log.h"
#include "nbd-int.h"

#define NBD_LOG_BURST 10          /* failure lines per second */

void nbd_budget_take(struct nbd_server *s, uint64_t bytes)
{
	pthread_mutex_lock(&s->budget_lock);
	while (s->budget_used && s->budget_used + bytes > s->bounds.max_bytes)
		pthread_cond_wait(&s->budget_cond, &s->budget_lock);
	s->budget_used += bytes;
	pthread_mutex_unlock(&s->budget_lock);
}

void nbd_budget_charge(struct nbd_server *s, uint64_t bytes)
{
	pthread_mutex_lock(&s->budget_lock);
	s->budget_used += bytes;
	pthread_mutex_unlock(&s->budget_lock);
}

void nbd_budget_give(struct nbd_server *s, uint64_t bytes)
{
	if (!bytes)
		return;
	pthread_mutex_lock(&s->budget_lock);
	assert(s->budget_used >= bytes);
	s->budget_used -= bytes;
	pthread_cond_broadcast(&s->budget_cond);
	pthread_mutex_unlock(&s->budget_lock);
}

/* A client can make every request fail (a read beyond a corrupt
 * cluster, say); the log in /run must not grow with it. */
bool nbd_log_allowed(struct nbd_server *s)
{
	int64_t now = clock_now_ms() / 1000;
	unsigned dropped = 0;
	bool ok;

	pthread_mutex_lock(&s->budget_lock);
	if (now != s->log_window) {
		dropped = s->log_dropped;
		s->log_window = now;
		s->log_lines = s->log_dropped = 0;
	}
	ok = s->log_lines++ < NBD_LOG_BURST;
	if (!ok)
		s->log_dropped++;
	pthread_mutex_unlock(&s->budget_lock);
	if (dropped)
		log_warn("nbd: %u request failure lines suppressed", dropped);
	return ok;
}
