/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/removal: the removal records of nodes gone from the document, and
 * their images removed many at once.
 *
 * A node leaves the document in the commit that carries its removal
 * record (gc-remove-image: node, image, fix).  The image is removed
 * after, and the record dropped last, so a crash at any point leaves a
 * record the replay finishes.  Where a removal costs a command of its
 * own (store_remove_later: an LVM metadata commit and a device scan per
 * lvremove), Volume.destroy stops at the commit and the collector it
 * starts removes every pending image in one store call.
 *
 * Records with a fix (a coalesce's switch) relink headers and move
 * servers first: they are finished one by one (gc-step.c), never here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/store.h"
#include "gc-int.h"
#include "ops-int.h"

int ops_removal_record(struct ops_sr *sr, const char *node, const char *image, const char *fix)
{
	struct meta_journal *j = ops_journal_new(sr, GC_JOURNAL_OP);

	if (!j || meta_journal_set_arg(j, "node", node) < 0 ||
	    meta_journal_set_arg(j, "image", image) < 0 || meta_journal_set_arg(j, "fix", fix) < 0)
		return -1;
	return 0;
}

/* The plain removals pending: record ids, and the images no node names
 * (one a restored document names again is kept; its record goes).  Both
 * copied: a record's strings live only while the walk is on it. */
struct pending {
	struct ops_sr *sr;
	char **ids, **images;
	size_t nids, nimages, cap;
};

/* The walk visits the committed records: as many as the SR record's
 * count says only if that count is right, so the arrays grow. */
static int pending_room(struct pending *p)
{
	size_t cap = p->cap ? 2 * p->cap : 16;
	char **ids, **images;

	if (p->nids < p->cap)
		return 0;
	if (!(ids = realloc(p->ids, cap * sizeof *ids)))
		return err_set(ENOMEM, "out of memory");
	p->ids = ids;
	if (!(images = realloc(p->images, cap * sizeof *images)))
		return err_set(ENOMEM, "out of memory");
	p->images = images;
	p->cap = cap;
	return 0;
}

static bool plain_removal(struct ops_sr *sr, const struct meta_journal *j)
{
	const char *fix = meta_journal_get_arg(j, "fix");
	const char *image = meta_journal_get_arg(j, "image");

	return !strcmp(j->op, GC_JOURNAL_OP) && fix && !fix[0] && meta_journal_get_arg(j, "node") &&
	       image && store_image_name_ok(sr->store, image);
}

static int pending_add(struct meta_sr *m, struct meta_journal *j, void *arg)
{
	struct pending *p = arg;
	const char *image = meta_journal_get_arg(j, "image");
	bool known;

	if (!plain_removal(p->sr, j))
		return 0;
	if (meta_image_known(m, image, &known) < 0 || pending_room(p) < 0)
		return -1;
	if (!(p->ids[p->nids++] = strdup(j->id)))
		return err_set(ENOMEM, "out of memory");
	if (!known && !(p->images[p->nimages++] = strdup(image)))
		return err_set(ENOMEM, "out of memory");
	return 0;
}

static void pending_free(struct pending *p)
{
	for (size_t i = 0; i < p->nids; i++)
		free(p->ids[i]);
	for (size_t i = 0; i < p->nimages; i++)
		free(p->images[i]);
	free(p->ids);
	free(p->images);
}

static int pending_collect(struct ops_sr *sr, struct pending *p)
{
	*p = (struct pending){ .sr = sr };
	if (meta_journal_each(sr->meta, pending_add, p) < 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

/* Remove the images of every plain removal record in one store call;
 * with drop, the records go too (from the cache: the caller commits).
 * On failure every record is kept. */
static int flush(struct ops_sr *sr, bool drop, size_t *images, size_t *records)
{
	struct pending p;
	int rc = 0;

	*images = *records = 0;
	if (sr->meta->njournal == 0)
		return 0;
	if (pending_collect(sr, &p) < 0)
		return -1;
	if (store_nodes_remove(sr->store, (const char *const *)p.images, p.nimages) < 0)
		rc = -1;
	else
		fault_point("removal.images-removed");
	for (size_t i = 0; rc == 0 && drop && i < p.nids; i++)
		if (meta_journal_remove(sr->meta, p.ids[i]) < 0)
			rc = -1;
	if (rc == 0 && p.nimages)
		log_info("SR %s: removed %zu images of destroyed nodes", sr->sr, p.nimages);
	*images = p.nimages;
	*records = drop ? p.nids : 0;
	pending_free(&p);
	return rc;
}

int ops_removals_finish(struct ops_sr *sr)
{
	size_t images, records;

	if (flush(sr, true, &images, &records) < 0)
		return -1;
	return records ? ops_sr_commit(sr) : 0;
}

int ops_node_alloc(struct ops_sr *sr, const char *node, uint64_t room, char *image, size_t n)
{
	struct err_record saved;
	size_t images, records;

	if (store_node_alloc(sr->store, node, room, image, n) == 0)
		return 0;
	if (err_errnum() != ENOSPC || sr->meta->njournal == 0)
		return -1;
	/* Space a destroy left to the collector is given back now.  The
	 * records stay: this call's own commit is still to come, and the
	 * replay drops a record whose image is gone. */
	saved = *err_last();
	if (flush(sr, false, &images, &records) < 0 || images == 0) {
		err_restore(&saved);
		return -1;
	}
	return store_node_alloc(sr->store, node, room, image, n);
}
