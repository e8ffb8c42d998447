/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/journal: the journal replay of SR.attach and of the collector.
 *
 * A multi-step change commits a journal record before its first step
 * that cannot be undone and drops it with its last; a record found here
 * belongs to a change killed in between, which is finished (every
 * finisher is idempotent).  Records of operations this version does not
 * know are left alone. */
#include <string.h>

#include "lq/err.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "gc-int.h"
#include "ops-int.h"

/* A new record of op with a fresh id, cached until the next commit. */
struct meta_journal *ops_journal_new(struct ops_sr *sr, const char *op)
{
	char id[UUID_STR_LEN];

	if (uuid_generate(id) < 0)
		return NULL;
	return meta_journal_add(sr->meta, id, op);
}

static int replay_one(struct meta_sr *m, struct meta_journal *j, void *arg)
{
	struct ops_sr *sr = arg;

	if (!strcmp(j->op, OPS_RESIZE_OP))
		return ops_resize_replay(sr, j);
	if (!strcmp(j->op, GC_JOURNAL_OP))
		return gc_journal_finish(sr, j);
	if (!strcmp(j->op, GC_COPY_OP))
		return gc_copy_replay(sr, j);
	if (!strcmp(j->op, OPS_RELINK_OP))
		return ops_relink_replay(sr, j);
	log_warn("SR %s: journal record %s of unknown operation '%.64s' left alone", sr->sr,
		 j->id, j->op);
	return 0;
}

int ops_sr_journal_replay(struct ops_sr *sr)
{
	if (!sr->locked)
		return err_set(EINVAL, "journal replay without the SR lock");
	if (sr->meta->njournal == 0)
		return 0;
	/* Many destroys' images in one store call; what fails here is
	 * finished record by record below, with its own error. */
	if (ops_removals_finish(sr) < 0) {
		log_warn("SR %s: removing destroyed images at once: %s", sr->sr, err_last()->msg);
		err_clear();
	}
	if (sr->meta->njournal == 0) /* all finished and committed above */
		return 0;
	if (meta_journal_each(sr->meta, replay_one, sr) < 0)
		return -1;
	return ops_sr_commit(sr);
}
