/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath: the Datapath.* verbs (see lq/datapath.h and
 * docs/datapath.md).  Each runs under the SR lock from start to end, so
 * attach/activate/deactivate/detach of one volume never interleave. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/rpc.h"
#include "lq/store.h"
#include "lq/meta.h"
#include "datapath-int.h"
#include "ops-int.h"

static int set_persistent(struct ops_activation *act, void *arg)
{
	act->persistent = *(bool *)arg;
	return 0;
}

/* A new epoch starts from the volume's content: a stale overlay from
 * an earlier non-persistent run is dropped when nothing serves it. */
int ops_datapath_open(const char *uri, bool persistent)
{
	struct dp d;
	int r;

	if (ops_dp_open(uri, &d) < 0)
		return -1;
	r = ops_activation_update(d.sr, d.vol.key, set_persistent, &persistent);
	if (r == 0 && !ops_dp_server_running(&d))
		ops_dp_overlay_remove(&d);
	else if (r == 0 && !persistent)
		log_warn("datapath: %s is served already; non-persistent mode starts "
			 "at its next attach", d.vol.key);
	ops_dp_close(&d);
	return r;
}

/* The leaf a guest writes gets room for every cluster it may still
 * allocate (where the store sizes images); detach gives it back.  It
 * grows to a bound before its activation (ops_dp_chain), and here only
 * if the image, now read, needs more. */
static int fill_leaf(struct dp *d)
{
	return ops_fit_full(d->sr, d->vol.image, 0);
}

uint64_t ops_dp_leaf_end(struct dp *d)
{
	uint64_t end = 0;

	if (d->vol.read_write && ops_image_end(d->sr, d->vol.image, &end) < 0) {
		log_warn("SR %s: image %s keeps its room: %s", d->sr->sr, d->vol.image,
			 err_last()->msg);
		err_clear();
		return 0;
	}
	return end;
}

void ops_dp_shrink_leaf(struct dp *d)
{
	if (d->vol.read_write)
		ops_fit_end_quietly(d->sr, d->vol.image);
}

/* The server is given the whole chain from the metadata; in
 * non-persistent mode the overlay is on top and the leaf below it. */
static int serve_chain(struct dp *d, struct dp_chain *cp, bool persistent, bool *filled,
		       struct dp_stage *st)
{
	const char *image = d->vol.image_path;
	uint64_t room = 0;

	/* Set before the hold: a failure after its growth gives it back. */
	*filled = persistent && d->vol.read_write;
	if (*filled)
		room = ops_leaf_room_bound(d->vol.virtual_size);
	if (ops_dp_chain(d, cp, room) < 0 ||
	    store_image_path(d->sr->store, d->vol.image, d->vol.image_path,
			     sizeof d->vol.image_path) < 0)
		return -1;
	if (*filled && fill_leaf(d) < 0)
		return -1;
	if (!persistent) {
		if (cp->n == NBD_MAX_CHAIN)
			return err_set(EINVAL, "volume %s: chain too deep for an overlay", d->vol.key);
		if (access(d->overlay, F_OK) < 0 && ops_dp_overlay_create(d) < 0)
			return -1;
		memmove(cp->path[1], cp->path[0], cp->n * sizeof cp->path[0]);
		snprintf(cp->path[0], sizeof cp->path[0], "%s", d->vol.image_path);
		cp->n++;
		image = d->overlay;
	}
	fault_point("datapath-attach.chain-held");
	if (fault_error("datapath-attach.chain-held") < 0)
		return -1;
	return ops_dp_server_go(d, st, image, cp, !d->vol.read_write);
}

/* A start that failed gives back what it took: the chain's activation
 * and the leaf's room.  Otherwise the chain would stay active, and the
 * leaf inflated, until a Datapath.detach that may never come. */
static void start_failed(struct dp *d, bool filled)
{
	struct err_record e = *err_last();

	/* A live server that does not answer (EBUSY) still needs them. */
	if (ops_dp_server_alive(d))
		return;
	ops_dp_let_go(d, filled ? ops_dp_leaf_end(d) : 0);
	err_restore(&e);
}

static int start_server(struct dp *d)
{
	CLEANUP_FREE struct dp_chain *cp = malloc(sizeof *cp);   /* 256 KiB */
	struct ops_activation act;
	struct dp_stage st;
	bool filled = false;

	if (!cp)
		return err_set(ENOMEM, "out of memory");
	/* The leaf's path is resolved only once the chain is held: the
	 * collector may be coalescing the leaf of a detached volume. */
	if (ops_gc_yield(d->sr, d->vol.key) < 0 ||
	    ops_activation_get(d->sr, d->vol.key, &act) < 0)
		return -1;
	/* The server's process starts while the chain is made ready. */
	if (ops_dp_server_stage(d, &st) < 0)
		return -1;
	if (serve_chain(d, cp, act.persistent, &filled, &st) < 0) {
		ops_dp_server_cancel(&st);
		start_failed(d, filled);
		return -1;
	}
	return 0;
}

int ops_datapath_attach(const char *uri, const char *domain, struct ops_dp_backend *out)
{
	struct dp d;
	int r = 0;

	if (strlen(domain) >= OPS_DOMAIN_MAX)
		return err_xapi(XERR_INVALID, "domain name longer than %d bytes", OPS_DOMAIN_MAX - 1);
	if (ops_dp_open(uri, &d) < 0)
		return -1;
	/* A device left on a dead server is released before a new start. */
	if (!ops_dp_server_running(&d)) {
		ops_dp_device_detach(&d);
		r = start_server(&d);
	}
	if (r == 0)
		r = ops_dp_device_attach(&d, &out->device);
	if (r == 0)
		r = ops_dp_attached_add(&d, domain);
	if (r == 0) {
		snprintf(out->socket, sizeof out->socket, "%s", d.sock);
		snprintf(out->export_name, sizeof out->export_name, "%s", d.vol.key);
	}
	ops_dp_close(&d);
	return r;
}

struct activate_arg {
	const char *domain;
	bool read_write, sharable;
};

/* The IDL forbids a volume active read-only and read-write at once:
 * every read-only activation must end before a read-write one, and no
 * read-only one starts while a domain writes.  One writer at a time
 * unless the volume is sharable.  Within one domain the activation keeps
 * its read-write mode if it asks again for a read-only one. */
static int activate_fn(struct ops_activation *act, void *p)
{
	const struct activate_arg *a = p;
	int self = ops_activation_find(act, a->domain);
	bool rw = a->read_write || (self >= 0 && act->dom[self].read_write);

	for (size_t i = 0; i < act->n; i++) {
		if ((int)i == self)
			continue;
		if (rw && !act->dom[i].read_write)
			return err_xapi(XERR_VDI_IN_USE, "the volume is active read-only for another "
					"domain: every read-only activation must end before a "
					"read-write one");
		if (!rw && act->dom[i].read_write)
			return err_xapi(XERR_VDI_IN_USE, "the volume is active read-write for "
					"another domain: it cannot be active read-only at the "
					"same time");
		if (rw && !a->sharable)
			return err_xapi(XERR_VDI_IN_USE,
					"the volume is active read-write for another domain");
	}
	return ops_activation_put(act, a->domain, rw);
}

/* Why a volume's server does not serve: it does not answer, it died or
 * was stopped under an attachment (its device fails every I/O until the
 * next attach starts a new one), or the volume was never attached. */
static int not_serving(const struct dp *d)
{
	if (err_errnum() == ETIMEDOUT)
		return err_xapi(XERR_INVALID, "volume %s is not attached (its NBD server does "
			       "not answer)", d->vol.key);
	if (ops_datapath_attached(d->vol.key))
		return err_xapi(XERR_INVALID, "volume %s is attached but its NBD server is not "
			       "running (it died or was stopped); detach and attach it again",
			       d->vol.key);
	return err_xapi(XERR_INVALID, "volume %s is not attached", d->vol.key);
}

int ops_datapath_activate(const char *uri, const char *domain, bool read_write)
{
	struct activate_arg a = { .domain = domain, .read_write = read_write };
	struct dp d;
	int r = -1;

	if (ops_dp_open(uri, &d) < 0)
		return -1;
	a.sharable = d.vol.sharable;
	if (!ops_dp_server_running(&d))
		not_serving(&d);
	else if (read_write && !d.vol.read_write)
		err_xapi(XERR_INVALID, "volume %s is read-only", d.vol.key);
	else
		r = ops_activation_update(d.sr, d.vol.key, activate_fn, &a);
	ops_dp_close(&d);
	return r;
}

static int deactivate_fn(struct ops_activation *act, void *p)
{
	ops_activation_drop(act, p);
	return 0;
}

/* Repeating it is harmless.  Data written by the domain is flushed
 * before the call returns.  A server that died under the volume cannot
 * flush: the domain is going away and has seen its I/O fail, so the
 * call still succeeds (VM shutdown must not stall on it) and says so in
 * the log; the next attach starts a new server. */
int ops_datapath_deactivate(const char *uri, const char *domain)
{
	struct dp d;
	int r;

	if (ops_dp_open(uri, &d) < 0)
		return -1;
	r = ops_activation_update(d.sr, d.vol.key, deactivate_fn, (void *)domain);
	if (r == 0 && ops_dp_server_running(&d))
		r = ops_dp_server_flush(&d);
	else if (r == 0 && err_errnum() == ETIMEDOUT)
		r = err_set(ETIMEDOUT, "the NBD server of volume %s does not answer; "
			    "the domain's writes may not be flushed", d.vol.key);
	else if (r == 0)
		log_warn("Datapath.deactivate: the NBD server of volume %s is not running; "
			 "writes the domain did not flush before it stopped may be lost "
			 "(the domain's I/O has been failing since)", d.vol.key);
	ops_dp_close(&d);
	return r;
}

static bool any_active(struct dp *d, bool *persistent)
{
	struct ops_activation act;

	if (ops_activation_get(d->sr, d->vol.key, &act) < 0)
		return true;            /* unknown: keep serving */
	*persistent = act.persistent;
	return act.n > 0;
}

/* The volume is gone (destroyed behind our back, or its SR): whatever
 * still runs or lies in its runtime directory is removed. */
static void detach_orphan(const char *uri)
{
	struct dp d;

	if (ops_dp_open_orphan(uri, &d) < 0) {
		log_error("Datapath.detach %s: %s", uri, err_last()->msg);
		return;
	}
	ops_dp_device_detach(&d);
	ops_dp_server_stop(&d);
	ops_dp_let_go(&d, 0);
	ops_dp_overlay_remove(&d);
	if (unlink(d.attached) < 0 && errno != ENOENT)
		log_warn("datapath: removing %s: %m", d.attached);
	ops_dp_close(&d);
}

void ops_datapath_detach(const char *uri, const char *domain)
{
	struct dp d;
	bool persistent = true;
	int left;

	if (ops_dp_open(uri, &d) < 0) {
		log_warn("Datapath.detach %s: %s; cleaning up what is left", uri, err_last()->msg);
		detach_orphan(uri);
		return;
	}
	if (ops_activation_update(d.sr, d.vol.key, deactivate_fn, (void *)domain) < 0)
		log_error("Datapath.detach: %s", err_last()->msg);
	left = ops_dp_attached_remove(&d, domain);
	if (left == 0 && !any_active(&d, &persistent)) {
		ops_dp_device_detach(&d);
		if (ops_dp_server_stop(&d) < 0) {
			log_error("Datapath.detach: %s", err_last()->msg);
		} else {
			/* The end is read while the server's hold keeps the
			 * leaf active; the leaf shrinks once let go. */
			ops_dp_let_go(&d, ops_dp_leaf_end(&d));
			if (persistent)
				ops_dp_overlay_remove(&d);
		}
	}
	ops_dp_close(&d);
}

/* The end of a non-persistent epoch: the overlay and every write in it
 * are discarded — unless a domain still uses it, when that happens at
 * its detach. */
int ops_datapath_close(const char *uri)
{
	/* The same steps as opening a persistent epoch. */
	return ops_datapath_open(uri, true);
}
