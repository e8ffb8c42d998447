/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/sweep: set aside images no node of the document names.
 *
 * Volume.create writes its image before committing the document and
 * Volume.destroy commits before removing the image, so a crash leaves at
 * worst an image nobody references.  This pass (run under the SR lock on
 * SR.attach, and usable by the GC) deals with them without ever deleting
 * on sight: an operator who restored an older copy of the document would
 * otherwise lose every volume created since.
 *
 *  1. Quarantined images the document names again (the newer document was
 *     put back) return to their place; the others are removed once they
 *     have been in quarantine longer than the grace period.
 *  2. Every image of the store's form that no node names is moved into
 *     quarantine.  Names not of the store's form are left alone.
 *
 * If any node of the document names an image not of the store's form,
 * the document is not trusted to say what is unreferenced and the sweep
 * changes nothing.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lq/env.h"
#include "lq/err.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/store.h"
#include "ops-int.h"

struct sweep_ctx {
	struct ops_sr *sr;
	time_t now;
	long long grace;
	int moved;
};

static long long sweep_grace(void)
{
	return env_integer("LVQCOW_QUARANTINE_GRACE", OPS_QUARANTINE_GRACE, 0, LLONG_MAX);
}

static int sweep_check_node(struct meta_sr *m, struct meta_node *n, void *arg)
{
	struct ops_sr *sr = arg;

	if (!store_image_name_ok(sr->store, n->image))
		return err_corrupt("SR %s: node %s names image '%.80s', not of the store's "
				   "form: nothing swept", sr->sr, n->uuid, n->image);
	return 0;
}

/* Failures here concern one image: log them and go on with the rest. */
static void sweep_warn(struct sweep_ctx *c)
{
	log_warn("SR %s: %s", c->sr->sr, err_last()->msg);
}

static int sweep_quarantined(const struct store_quarantined *q, void *arg)
{
	struct sweep_ctx *c = arg;
	bool known;

	if (meta_image_known(c->sr->meta, q->image, &known) < 0)
		return -1;
	if (known) {
		if (store_quarantine_restore(c->sr->store, q->entry) == 0) {
			log_info("SR %s: image %s is named again: restored from quarantine",
				 c->sr->sr, q->image);
			return 0;
		}
		/* e.g. the name is in use again: this copy just ages out */
		sweep_warn(c);
	}
	if ((long long)c->now - (long long)q->since < c->grace)
		return 0;
	if (store_quarantine_remove(c->sr->store, q->entry) < 0)
		sweep_warn(c);
	else
		log_info("SR %s: removed %s after its grace period in quarantine", c->sr->sr,
			 q->entry);
	return 0;
}

static int sweep_image(const char *image, void *arg)
{
	struct sweep_ctx *c = arg;
	bool known;

	if (meta_image_known(c->sr->meta, image, &known) < 0)
		return -1;
	if (known)
		return 0;
	if (!store_image_name_ok(c->sr->store, image)) {
		log_warn("SR %s: '%.80s' is not an image of this SR: left alone", c->sr->sr, image);
		return 0;
	}
	if (store_quarantine(c->sr->store, image, c->now) < 0) {
		sweep_warn(c);
		return 0;
	}
	log_warn("SR %s: image %s is named by no node: moved to quarantine", c->sr->sr, image);
	c->moved++;
	return 0;
}

int ops_sr_sweep(struct ops_sr *sr)
{
	struct sweep_ctx c = { sr, time(NULL), sweep_grace(), 0 };

	if (!sr->locked)
		return err_set(EINVAL, "sweep without the SR lock");
	if (meta_node_each(sr->meta, sweep_check_node, sr) < 0 ||
	    store_quarantine_list(sr->store, sweep_quarantined, &c) < 0 ||
	    store_image_list(sr->store, sweep_image, &c) < 0)
		return -1;
	return c.moved;
}
