/* gate: every request passes through here to reach the image.  The
 * in-flight count lets the control channel pause (no new request
 * starts; running ones finish), flush, swap the image under a changed
 * chain (live snapshot, coalesce) and resume. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/log.h"
#include "nbd-int.h"

struct nbd_backend *nbd_gate_enter(struct nbd_server *s)
{
	struct nbd_backend *be;

	pthread_mutex_lock(&s->lock);
	while (s->paused && !s->stopping)
		pthread_cond_wait(&s->cond, &s->lock);
	be = s->be;
	if (be)
		s->inflight++;
	pthread_mutex_unlock(&s->lock);
	if (!be)
		err_set(EIO, "the image could not be reopened");
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

/* Returns with no request inside the gate and everything flushed. */
int nbd_gate_pause(struct nbd_server *s)
{
	struct nbd_backend *be;

	pthread_mutex_lock(&s->lock);
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
	s->paused = false;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

uint64_t nbd_export_size(struct nbd_server *s)
{
	uint64_t size;

	pthread_mutex_lock(&s->lock);
	size = s->size;
	pthread_mutex_unlock(&s->lock);
	return size;
}

/* Clients keep the size they were told, so the new chain may grow the
 * export but never shrink it. */
static int open_checked(struct nbd_server *s, const char *path, struct nbd_backend **out)
{
	uint64_t size;

	if (nbd_backend_open(path, s->opts.format, s->opts.readonly, out) < 0)
		return -1;
	size = (*out)->size;
	if (size < s->size) {
		nbd_backend_close(*out);
		*out = NULL;
		return err_set(EINVAL, "%s: virtual size %llu is smaller than the export (%llu)",
			       path, (unsigned long long)size, (unsigned long long)s->size);
	}
	return 0;
}

static int install(struct nbd_server *s, struct nbd_backend *be, const char *path)
{
	char *copy = strdup(path);

	if (!copy) {
		nbd_backend_close(be);
		return err_set(ENOMEM, "out of memory");
	}
	free(s->image);
	s->image = copy;
	pthread_mutex_lock(&s->lock);
	s->be = be;
	s->size = be->size;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Must be called paused.  The old chain is closed first: the new top
 * may be the same file, and two writable handles on one image would
 * fight over its metadata. */
int nbd_gate_reopen(struct nbd_server *s, const char *path)
{
	struct nbd_backend *old = s->be, *be = NULL;
	struct err_record saved;

	pthread_mutex_lock(&s->lock);
	s->be = NULL;
	pthread_mutex_unlock(&s->lock);
	if (old && nbd_backend_close(old) < 0)
		log_error("reopen: closing %s: %s", s->image, err_last()->msg);
	if (open_checked(s, path, &be) == 0)
		return install(s, be, path);
	saved = *err_last();
	if (open_checked(s, s->image, &be) == 0)
		install(s, be, s->image);
	else
		log_error("reopen: %s cannot be reopened either: %s", s->image, err_last()->msg);
	err_set(saved.errnum, "%s", saved.msg);
	return -1;
}
