/* ops/sweep: remove images no node of the document names.
 *
 * Volume.create writes its image before committing the document and
 * Volume.destroy commits before removing the image, so a crash leaves at
 * worst an image nobody references.  This pass (run under the SR lock on
 * SR.attach, and usable by the GC) removes them. */
#include <string.h>

#include "lq/err.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/store.h"
#include "ops-int.h"

struct sweep_ctx {
	struct ops_sr *sr;
	int removed;
};

static int sweep_one(const char *image, void *arg)
{
	struct sweep_ctx *c = arg;

	if (meta_image_known(c->sr->meta, image))
		return 0;
	log_info("SR %s: removing orphan image %s", c->sr->sr, image);
	/* Names the store does not recognise (temporary files of its own)
	 * are its business: node_remove refuses them and we carry on. */
	if (c->sr->store->ops->node_remove(c->sr->store, image) < 0) {
		log_warn("SR %s: %s", c->sr->sr, err_last()->msg);
		return 0;
	}
	c->removed++;
	return 0;
}

int ops_sr_sweep(struct ops_sr *sr)
{
	struct sweep_ctx c = { sr, 0 };

	if (!sr->locked)
		return err_set(EINVAL, "sweep without the SR lock");
	if (sr->store->ops->image_list(sr->store, sweep_one, &c) < 0)
		return -1;
	return c.removed;
}
