/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control: the control channel, a line protocol on a second UNIX
 * socket (see docs/datapath.md).  Commands: pause, resume,
 * reopen [IMAGE], status, stop, stream TOP<TAB>PARENT, stream-status,
 * stream-cancel; each is answered with one line starting
 * "ok" or "error".  Commands from all control clients run one at a
 * time.  A pause outlives the control connection that asked for it.
 * Every wait is bounded: a client has control_idle_ms to send each
 * command and send_ms to take each reply, or it is dropped. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/log.h"
#include "nbd-int.h"

struct control {
	struct nbd_server *srv;
	int fd, slot;
};

static int reply(struct nbd_server *s, int fd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int reply(struct nbd_server *s, int fd, const char *fmt, ...)
{
	char line[NBD_CONTROL_LINE + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	n = MIN(n, (int)sizeof line - 2);
	line[n++] = '\n';
	return nbd_write_full(fd, line, (size_t)n, s->bounds.send_ms);
}

static int cmd_pause(struct nbd_server *s, int fd)
{
	if (nbd_gate_pause(s) < 0)
		return reply(s, fd, "error flush failed: %s", err_last()->msg);
	return reply(s, fd, "ok paused");
}

static int cmd_resume(struct nbd_server *s, int fd)
{
	nbd_gate_resume(s);
	return reply(s, fd, "ok running");
}

/* "reopen" alone: the current chain again.  "reopen TOP" or
 * "reopen TOP<TAB>PARENT<TAB>...": that chain, nearest parent first
 * (a tab cannot be in a path the datapath builds). */
static int parse_chain(struct nbd_server *s, char *arg, struct nbd_chain *ch)
{
	char *backing[NBD_MAX_CHAIN];
	size_t n = 0;
	char *save, *top;

	if (!*arg)
		return nbd_chain_dup(ch, s->chain.top, s->chain.backing, s->chain.n);
	top = strtok_r(arg, "\t", &save);
	if (!top)
		return err_set(EINVAL, "no image");
	for (char *p; (p = strtok_r(NULL, "\t", &save));)
		if (n == NBD_MAX_CHAIN)
			return err_set(EINVAL, "chain deeper than %d images", NBD_MAX_CHAIN);
		else
			backing[n++] = p;
	return nbd_chain_dup(ch, top, backing, n);
}

/* Reopening while running pauses around the swap. */
static int cmd_reopen(struct nbd_server *s, int fd, char *arg)
{
	struct nbd_chain ch;
	bool was_paused;
	int r = -1;

	if (parse_chain(s, arg, &ch) < 0)
		return reply(s, fd, "error %s", err_last()->msg);
	pthread_mutex_lock(&s->lock);
	was_paused = s->paused;
	pthread_mutex_unlock(&s->lock);
	if (was_paused || nbd_gate_pause(s) == 0)
		r = nbd_gate_reopen(s, &ch);
	else
		nbd_chain_free(&ch);
	if (!was_paused)
		nbd_gate_resume(s);
	if (r < 0)
		return reply(s, fd, "error reopen failed: %s", err_last()->msg);
	log_info("reopened onto %s", s->chain.top);
	return reply(s, fd, "ok image=%s", s->chain.top);
}

static int cmd_status(struct nbd_server *s, int fd)
{
	const char *state;
	unsigned conns, inflight;
	unsigned long long served, size, pauses, paused_ms, held;

	pthread_mutex_lock(&s->lock);
	state = !s->be ? "failed" : s->paused ? "paused" : "running";
	conns = s->nconns;
	inflight = s->inflight;
	served = s->served;
	size = s->size;
	pauses = s->pauses;
	paused_ms = s->paused_ms;
	held = s->held;
	pthread_mutex_unlock(&s->lock);
	return reply(s, fd, "ok state=%s pid=%d size=%llu connections=%u inflight=%u "
		     "served=%llu pauses=%llu paused_ms=%llu held=%llu readonly=%d image=%s",
		     state, (int)getpid(), size, conns, inflight, served, pauses, paused_ms,
		     held, s->opts.readonly, s->chain.top);
}

/* "stream TOP<TAB>PARENT": start (or find running) the copy of the
 * parent's clusters into the top; the reply is the stream's state. */
static int cmd_stream(struct nbd_server *s, int fd, char *arg)
{
	char *tab = strchr(arg, '\t'), line[512];

	if (!tab || strchr(tab + 1, '\t') || !tab[1] || tab == arg)
		return reply(s, fd, "error usage: stream TOP<TAB>PARENT");
	*tab = '\0';
	if (nbd_stream_start(s, arg, tab + 1) < 0)
		return reply(s, fd, "error stream: %s", err_last()->msg);
	nbd_stream_describe(s, line, sizeof line);
	return reply(s, fd, "ok %s", line);
}

static int cmd_stream_status(struct nbd_server *s, int fd, bool cancel)
{
	char line[512];

	if (cancel)
		nbd_stream_stop(s);
	nbd_stream_describe(s, line, sizeof line);
	return reply(s, fd, "ok %s", line);
}

static int cmd_stop(struct nbd_server *s, int fd)
{
	int r = reply(s, fd, "ok stopping");

	nbd_server_wake(s);
	return r;
}

/* 1 after stop (the connection ends), 0 to go on, -1 on a dead socket. */
static int execute(struct nbd_server *s, int fd, char *line)
{
	char *arg = strchr(line, ' ');
	int r;

	if (arg)
		*arg++ = '\0';
	else
		arg = line + strlen(line);
	pthread_mutex_lock(&s->control_lock);
	if (!strcmp(line, "pause"))
		r = cmd_pause(s, fd);
	else if (!strcmp(line, "resume"))
		r = cmd_resume(s, fd);
	else if (!strcmp(line, "reopen"))
		r = cmd_reopen(s, fd, arg);
	else if (!strcmp(line, "status"))
		r = cmd_status(s, fd);
	else if (!strcmp(line, "stream"))
		r = cmd_stream(s, fd, arg);
	else if (!strcmp(line, "stream-status"))
		r = cmd_stream_status(s, fd, false);
	else if (!strcmp(line, "stream-cancel"))
		r = cmd_stream_status(s, fd, true);
	else if (!strcmp(line, "stop"))
		r = cmd_stop(s, fd) < 0 ? -1 : 1;
	else
		r = reply(s, fd, "error unknown command");
	pthread_mutex_unlock(&s->control_lock);
	return r;
}

static void control_release(struct control *c)
{
	struct nbd_server *s = c->srv;

	pthread_mutex_lock(&s->lock);
	s->control[c->slot].fd = -1;
	s->ncontrol--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	close(c->fd);
	free(c);
}

static void mark_busy(struct control *c, bool busy)
{
	struct nbd_server *s = c->srv;

	pthread_mutex_lock(&s->lock);
	s->control[c->slot].busy = busy;
	s->control[c->slot].seen = clock_now_ms();
	pthread_mutex_unlock(&s->lock);
}

static void *control_main(void *arg)
{
	struct control *c = arg;
	char line[NBD_CONTROL_LINE];

	while (nbd_read_line(c->fd, line, sizeof line, c->srv->bounds.control_idle_ms) == 0) {
		mark_busy(c, true);
		if (execute(c->srv, c->fd, line) != 0)
			break;
		mark_busy(c, false);
	}
	control_release(c);
	return NULL;
}

/* Called with s->lock held when NBD_MAX_CONTROL clients are live. */
static void evict_idlest(struct nbd_server *s)
{
	struct nbd_control_slot *victim = NULL;

	for (int i = 0; i < NBD_CONTROL_SLOTS; i++) {
		struct nbd_control_slot *x = &s->control[i];
		if (x->fd >= 0 && !x->busy && !x->evicted && (!victim || x->seen < victim->seen))
			victim = x;
	}
	if (!victim)
		return;
	log_info("control: %d clients open; dropping the one idle longest", NBD_MAX_CONTROL);
	victim->evicted = true;
	shutdown(victim->fd, SHUT_RDWR);
}

static unsigned live_controls(struct nbd_server *s)
{
	unsigned n = 0;

	for (int i = 0; i < NBD_CONTROL_SLOTS; i++)
		n += s->control[i].fd >= 0 && !s->control[i].evicted;
	return n;
}

static int take_slot(struct nbd_server *s, int fd)
{
	int slot = -1;

	pthread_mutex_lock(&s->lock);
	if (!s->stopping && live_controls(s) >= NBD_MAX_CONTROL)
		evict_idlest(s);
	for (int i = 0; i < NBD_CONTROL_SLOTS && slot < 0 && !s->stopping; i++)
		if (s->control[i].fd < 0)
			slot = i;
	if (slot >= 0) {
		s->control[slot] = (struct nbd_control_slot){ .fd = fd, .seen = clock_now_ms() };
		s->ncontrol++;
	}
	pthread_mutex_unlock(&s->lock);
	return slot;
}

void nbd_control_start(struct nbd_server *s, int fd)
{
	struct control *c = calloc(1, sizeof *c);
	pthread_attr_t a;
	pthread_t t;

	if (!c || (c->slot = take_slot(s, fd)) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, control_main, c) != 0)
		control_release(c);
	pthread_attr_destroy(&a);
}

void nbd_control_shutdown_all(struct nbd_server *s)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < NBD_CONTROL_SLOTS; i++)
		if (s->control[i].fd >= 0)
			shutdown(s->control[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
}
