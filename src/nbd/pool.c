/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pool: the worker threads shared by all connections.  Requests from
 * every client go to one FIFO queue; any worker runs any request, so a
 * client's requests execute concurrently (the engine is thread-safe)
 * and finish in any order. */
#include <errno.h>
#include <stdlib.h>

#include "lq/err.h"
#include "nbd-int.h"

static struct nbd_job *pool_pop(struct nbd_pool *p)
{
	struct nbd_job *j;

	pthread_mutex_lock(&p->lock);
	while (!p->head && !p->stop)
		pthread_cond_wait(&p->cond, &p->lock);
	j = p->head;
	if (j) {
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return j;
}

static void *worker_main(void *arg)
{
	struct nbd_server *s = arg;
	struct nbd_job *j;

	while ((j = pool_pop(&s->pool)))
		nbd_job_run(j);
	return NULL;
}

void nbd_pool_push(struct nbd_server *s, struct nbd_job *j)
{
	struct nbd_pool *p = &s->pool;

	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int nbd_pool_start(struct nbd_server *s, int nthreads)
{
	struct nbd_pool *p = &s->pool;

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->threads = calloc((size_t)nthreads, sizeof *p->threads);
	if (!p->threads)
		return err_set(ENOMEM, "out of memory");
	for (; p->nthreads < nthreads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, s) != 0)
			return err_set(EAGAIN, "cannot start worker thread %d", p->nthreads);
	return 0;
}

/* Workers finish the queue before they exit. */
void nbd_pool_stop(struct nbd_server *s)
{
	struct nbd_pool *p = &s->pool;

	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
	p->nthreads = 0;
}
