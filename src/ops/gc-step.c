/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/gc-step: the collector's steps (see docs/gc.md).
 *
 * A step is chosen from a scan of the tree under the SR lock:
 *   remove    a node nothing refers to (refs 0);
 *   coalesce  a node N whose parent P has no other referent (refs 1):
 *             N and P become one node.  N may be a hidden interior node
 *             or the writable leaf of a volume; when that volume is
 *             attached, its server does the copy (gc-live.c).
 * A coalesce copies without the SR lock, in whichever direction copies
 * less: N into P ("up": P takes N's place, N's children and volumes move
 * to P) or P under N ("down": N takes P's place on P's parent).  Either
 * copy leaves every chain's view unchanged, so it runs under readers and
 * is simply redone after a crash.  Then, under the lock again, the pair
 * is checked to be as it was and one commit switches the metadata and
 * journals the removal of the node left over; servers reading through
 * it are moved onto the new chain, headers are relinked, the image is
 * removed and the journal record dropped.  A record left by a crash is
 * finished by the journal replay (gc_journal_finish). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/clock.h"
#include "lq/datapath.h"
#include "lq/env.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/nbd.h"
#include "lq/qcow2.h"
#include "lq/store.h"
#include "gc-int.h"
#include "ops-int.h"


/* ---- choosing ------------------------------------------------------- */

static bool pair_ok(const struct gc_tree *t, const struct gc_node *n, struct gc_step *s)
{
	const struct gc_node *p = n->parent[0] ? gc_tree_node(t, n->parent) : NULL;
	const struct gc_vol *v = gc_tree_vol_at(t, n->uuid);

	if (!p || p->refs != 1)
		return false;
	if (!n->hidden) {
		/* A writable leaf: copied by the collector while nothing serves
		 * it, else by its server, if that serves the leaf itself. */
		if (!v || !v->read_write)
			return false;
		s->live = ops_datapath_attached(v->key);
		if (s->live && !ops_datapath_streamable(v->key))
			return false;
		snprintf(s->volume, sizeof s->volume, "%s", v->key);
	}
	s->vsize = n->vsize;
	s->kind = GC_COALESCE;
	snprintf(s->node, sizeof s->node, "%s", n->uuid);
	snprintf(s->parent, sizeof s->parent, "%s", p->uuid);
	return true;
}

int gc_step_next(struct ops_sr *sr, const struct gc_tree *t, struct gc_step *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->node[i].refs == 0) {
			s->kind = GC_REMOVE;
			snprintf(s->node, sizeof s->node, "%s", t->node[i].uuid);
			return 0;
		}
	for (size_t i = 0; i < t->nnodes; i++) {
		memset(s, 0, sizeof *s);
		if (pair_ok(t, &t->node[i], s))
			return 0;
	}
	memset(s, 0, sizeof *s);
	return 0;
}

/* ---- checks under the lock ------------------------------------------- */

static int stale(const struct gc_step *s, const char *why)
{
	return err_set(ESTALE, "node %s changed meanwhile (%s): step dropped", s->node, why);
}

static int find_node(struct ops_sr *sr, const struct gc_step *s, const char *uuid,
		     struct meta_node **n)
{
	if (meta_node_find(sr->meta, uuid, n) == 0)
		return 0;
	return err_errnum() == ENOENT ? stale(s, "gone") : -1;
}

/* The pair is still N on P, P has no other referent, and a writable
 * leaf still belongs to the same volume, is not attached (unless its
 * server copies: then only its size must be the same; attached or not,
 * a leaf that has been streamed shadows its parent for good). */
static int pair_check(struct ops_sr *sr, const struct gc_step *s, struct meta_node **n,
		      struct meta_node **p)
{
	struct meta_volume *v;
	uint64_t refs;

	if (find_node(sr, s, s->node, n) < 0 || find_node(sr, s, s->parent, p) < 0)
		return -1;
	if (!(*n)->parent || strcmp((*n)->parent, s->parent))
		return stale(s, "relinked");
	if (meta_node_refs(sr->meta, s->parent, &refs) < 0)
		return -1;
	if (refs != 1)
		return stale(s, "parent shared");
	if (!s->volume[0])
		return (*n)->hidden ? 0 : stale(s, "became a leaf");
	if (meta_volume_find(sr->meta, s->volume, &v) < 0)
		return err_errnum() == ENOENT ? stale(s, "volume gone") : -1;
	if (strcmp(v->node, s->node) || !v->read_write || (*n)->hidden)
		return stale(s, "leaf changed");
	if (s->live)
		return (*n)->virtual_size == s->vsize ? 0 : stale(s, "resized");
	return ops_datapath_attached(s->volume) ? stale(s, "attached") : 0;
}

/* ---- the copy, without the lock -------------------------------------- */

struct pair {
	struct gc_step s;
	char sr_uuid[UUID_STR_LEN];
	const char *sr_str;         /* the SR string, for the log */
	char child[PATH_MAX], parent[PATH_MAX];
	char (*below)[PATH_MAX];    /* the parent's own chain */
	size_t nbelow;
	bool down;
	uint64_t bytes;             /* what the chosen direction copies */
	uint64_t free_bytes;        /* free in the store when chosen */
	int logged_tenth;           /* last tenth of the copy logged */
	struct gc_claim claim;
	char copy_id[UUID_STR_LEN]; /* the copy's journal record, once committed */
};

static int pair_paths(struct ops_sr *sr, struct pair *pr, const struct meta_node *n,
		      const struct meta_node *p)
{
	const struct meta_node *cur = p;

	/* The copy runs without the SR open: this process holds the
	 * images until it ends (store_image_hold). */
	if (store_image_path(sr->store, n->image, pr->child, sizeof pr->child) < 0 ||
	    store_image_path(sr->store, p->image, pr->parent, sizeof pr->parent) < 0 ||
	    store_image_hold(sr->store, n->image, NULL) < 0 ||
	    store_image_hold(sr->store, p->image, NULL) < 0)
		return -1;
	if (!(pr->below = calloc(NBD_MAX_CHAIN, sizeof *pr->below)))
		return err_set(ENOMEM, "out of memory");
	while (cur->parent) {
		struct meta_node *up;
		if (pr->nbelow == NBD_MAX_CHAIN)
			return err_set(EINVAL, "node %s: chain too deep", p->uuid);
		if (find_node(sr, &pr->s, cur->parent, &up) < 0 ||
		    store_image_path(sr->store, up->image, pr->below[pr->nbelow],
				     sizeof pr->below[0]) < 0 ||
		    store_image_hold(sr->store, up->image, NULL) < 0)
			return -1;
		pr->nbelow++;
		cur = up;
	}
	return 0;
}

/* Open `path` writable on the chain of `first` (if any) then below. */
static int open_into(struct pair *pr, const char *path, const char *first,
		     struct qcow2_image **img)
{
	struct qcow2_backing b[NBD_MAX_CHAIN + 1];
	size_t n = 0;

	if (first)
		b[n++] = (struct qcow2_backing){ .path = first };
	for (size_t i = 0; i < pr->nbelow && n < NBD_MAX_CHAIN + 1; i++)
		b[n++] = (struct qcow2_backing){ .path = pr->below[i] };
	return qcow2_open_chain(path, b, n, QCOW2_OPEN_RDWR, img);
}

static int count(const char *from, const char *into, int flags, uint64_t *bytes)
{
	struct qcow2_image *f = NULL, *i = NULL;
	int rc = -1;

	if (qcow2_open(from, QCOW2_OPEN_NO_BACKING, &f) == 0 &&
	    qcow2_open(into, QCOW2_OPEN_NO_BACKING, &i) == 0)
		rc = qcow2_merge(f, i, flags | QCOW2_MERGE_DRY_RUN, NULL, NULL, bytes);
	qcow2_close(f);
	qcow2_close(i);
	return rc;
}

/* Down on a tie: the child keeps its place and nothing is relinked. */
static int pair_direction(struct pair *pr)
{
	const char *force = getenv("LVQCOW_GC_DIRECTION");
	uint64_t up, down;

	if (force && (!strcmp(force, "up") || !strcmp(force, "down"))) {
		pr->down = !strcmp(force, "down");
		return 0;
	}
	if (count(pr->child, pr->parent, 0, &up) < 0 ||
	    count(pr->parent, pr->child, QCOW2_MERGE_UNDER, &down) < 0)
		return -1;
	pr->down = down <= up;
	pr->bytes = pr->down ? down : up;
	log_info("gc: node %s on %s: up would copy %llu bytes, down %llu: %s", pr->s.node,
		 pr->s.parent, (unsigned long long)up, (unsigned long long)down,
		 pr->down ? "down" : "up");
	return 0;
}

/* Room for the copy (the engine may allocate a little metadata beside
 * the data, and another step may be writing too): a step that would fill
 * the store is not started. */
#define GC_SPARE (64ull << 20)

static int pair_room(const struct pair *pr)
{
	if (pr->bytes + GC_SPARE <= pr->free_bytes)
		return 0;
	return err_set(ENOSPC, "coalescing node %s would copy %llu bytes; the SR has %llu free: "
		       "step not started", pr->s.node, (unsigned long long)pr->bytes,
		       (unsigned long long)pr->free_bytes);
}

/* A line at every tenth of the copy: a coalesce can take hours, and the
 * administrator follows it in the host's log. */
static void copy_log(struct pair *pr, uint64_t done, uint64_t total)
{
	int tenth = total ? (int)(done * 10 / total) : 10;

	if (tenth <= pr->logged_tenth)
		return;
	pr->logged_tenth = tenth;
	log_info("SR %s: gc: coalescing node %s (%s): %d%%, %llu of %llu bytes walked",
		 pr->sr_str, pr->s.node, pr->down ? "down" : "up", tenth * 10,
		 (unsigned long long)done, (unsigned long long)total);
}

static int copy_progress(uint64_t done, uint64_t total, void *opaque)
{
	struct pair *pr = opaque;

	copy_log(pr, done, total);
	gc_status_set(pr->sr_uuid, "coalescing", &pr->s, done, total);
	fault_point("gc-coalesce.copying");
	return gc_claim_cancelled(&pr->claim);
}

static int pair_copy(struct pair *pr)
{
	struct qcow2_image *from = NULL, *into = NULL;
	int rc = -1;

	if (pr->down) {
		if (qcow2_open(pr->parent, QCOW2_OPEN_NO_BACKING, &from) == 0 &&
		    open_into(pr, pr->child, pr->parent, &into) == 0)
			rc = qcow2_merge(from, into, QCOW2_MERGE_UNDER, copy_progress, pr, NULL);
	} else if (qcow2_open(pr->child, QCOW2_OPEN_NO_BACKING, &from) == 0 &&
		   open_into(pr, pr->parent, NULL, &into) == 0) {
		rc = qcow2_merge(from, into, 0, copy_progress, pr, NULL);
	}
	if (qcow2_close(into) < 0)
		rc = -1;
	qcow2_close(from);
	return rc;
}

/* ---- the switch, under the lock --------------------------------------- */

static int journal_removal(struct ops_sr *sr, const struct meta_node *gone, const char *fix)
{
	return ops_removal_record(sr, gone->uuid, gone->image, fix);
}

/* Up: P takes N's place; N's children and volumes move to P. */
static int switch_up(struct ops_sr *sr, const struct gc_tree *t, struct meta_node *n,
		     struct meta_node *p)
{
	for (size_t i = 0; i < t->nnodes; i++) {
		struct meta_node *c;
		if (strcmp(t->node[i].parent, n->uuid))
			continue;
		if (meta_node_find(sr->meta, t->node[i].uuid, &c) < 0 ||
		    meta_set_str(&c->parent, p->uuid) < 0)
			return -1;
	}
	for (size_t i = 0; i < t->nvols; i++) {
		struct meta_volume *v;
		if (strcmp(t->vol[i].node, n->uuid))
			continue;
		if (meta_volume_find(sr->meta, t->vol[i].key, &v) < 0 ||
		    meta_set_str(&v->node, p->uuid) < 0)
			return -1;
	}
	p->hidden = n->hidden;
	if (n->virtual_size > p->virtual_size)
		p->virtual_size = n->virtual_size;
	return meta_node_remove(sr->meta, n->uuid) < 0 ? -1 : journal_removal(sr, n, p->uuid);
}

/* Down: N takes P's place on P's parent. */
static int switch_down(struct ops_sr *sr, struct meta_node *n, struct meta_node *p)
{
	if (meta_set_str(&n->parent, p->parent) < 0 || meta_node_remove(sr->meta, p->uuid) < 0)
		return -1;
	return journal_removal(sr, p, n->uuid);
}

/* ---- after the switch: servers, headers, the image -------------------- */

/* Which headers change: "fix" is the node that took the removed one's
 * place.  Up: its children now name it.  Down: it names a new parent. */
static bool needs_fix(const struct gc_tree *t, const char *fix, const char *uuid)
{
	const struct gc_node *n = gc_tree_node(t, uuid);

	return !strcmp(uuid, fix) || (n && !strcmp(n->parent, fix));
}

static void warn_step(struct ops_sr *sr, const char *what)
{
	log_warn("SR %s: gc: %s: %s", sr->sr, what, err_last()->msg);
}

/* A served volume reading through the changed part of the tree: pause,
 * relink its leaf's header if it is one that changes, reopen, resume. */
static void move_server(struct ops_sr *sr, const struct gc_tree *t, const char *fix,
			const struct gc_vol *v)
{
	int64_t t0 = clock_now_ms(), t1, t2, t3;
	bool paused;

	if (ops_datapath_pause(sr, v->key, &paused) < 0) {
		warn_step(sr, "pause");
		return;
	}
	t1 = clock_now_ms();
	if (paused && needs_fix(t, fix, v->node) && ops_node_relink(sr, v->node) < 0)
		warn_step(sr, "relink a served leaf");
	t2 = clock_now_ms();
	if (paused && ops_datapath_reopen_paused(sr, v->key) < 0)
		warn_step(sr, "move a server");
	t3 = clock_now_ms();
	if (paused && ops_datapath_resume(sr, v->key) < 0)
		warn_step(sr, "resume a server");
	if (paused)
		log_info("SR %s: gc: volume %s moved: pause %lld ms, relink %lld ms, reopen %lld ms, "
			 "resumed after %lld ms", sr->sr, v->key, (long long)(t1 - t0),
			 (long long)(t2 - t1), (long long)(t3 - t2), (long long)(clock_now_ms() - t0));
}

/* Everything below `fix` (the surviving node) in tree t, read after the
 * switch: first the headers of nodes no server writes, then the servers.
 * A reopen checks every header of the new chain against it (down makes
 * `fix` a root whose header still names the removed parent), and a
 * hidden image's backing name can change under its readers: their view
 * is the same either way. */
static void relink_below(struct ops_sr *sr, const struct gc_tree *t, const char *fix)
{
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct gc_vol *v = gc_tree_vol_at(t, t->node[i].uuid);
		if (!needs_fix(t, fix, t->node[i].uuid) ||
		    (v && v->read_write && ops_datapath_attached(v->key)))
			continue;
		if (ops_node_relink(sr, t->node[i].uuid) < 0)
			warn_step(sr, "relink a header");
	}
	for (size_t i = 0; i < t->nvols; i++)
		if (ops_datapath_attached(t->vol[i].key) && gc_tree_below(t, fix, t->vol[i].node))
			move_server(sr, t, fix, &t->vol[i]);
}

/* Finish a switched step: servers and headers, then the image, then the
 * record.  Every part is idempotent. */
static int finish_removal(struct ops_sr *sr, const struct meta_journal *j)
{
	const char *node = meta_journal_get_arg(j, "node");
	const char *image = meta_journal_get_arg(j, "image");
	const char *fix = meta_journal_get_arg(j, "fix");
	struct gc_tree t;
	bool known;

	if (!node || !image || !fix || !store_image_name_ok(sr->store, image))
		return err_corrupt("SR %s: journal record %s: bad arguments", sr->sr, j->id);
	if (meta_image_known(sr->meta, image, &known) < 0)
		return -1;
	if (fix[0] && gc_tree_load(sr, &t) == 0) {
		relink_below(sr, &t, fix);
		gc_tree_free(&t);
	}
	fault_point("gc-remove.relinked");
	if (!known && store_node_remove(sr->store, image) < 0)
		return -1;
	fault_point("gc-remove.image-removed");
	if (fix[0] && gc_give_back(sr, fix) < 0)
		return -1;
	if (meta_journal_remove(sr->meta, j->id) < 0)
		return -1;
	log_info("SR %s: gc: removed node %s", sr->sr, node);
	return 0;
}

int gc_journal_finish(struct ops_sr *sr, const struct meta_journal *j)
{
	if (strcmp(j->op, GC_JOURNAL_OP))
		return err_set(EINVAL, "journal record %s is not the collector's", j->id);
	return finish_removal(sr, j);
}

/* The switch is committed with the record; the record is finished at
 * once (a crash leaves it to the replay). */
static int commit_and_finish(struct ops_sr *sr)
{
	if (ops_sr_commit(sr) < 0)
		return -1;
	fault_point("gc-step.switched");
	return ops_sr_journal_replay(sr);
}

/* ---- the steps -------------------------------------------------------- */

static int run_remove(struct ops_sr *sr, const struct gc_step *s)
{
	struct meta_node *n;
	uint64_t refs;

	if (find_node(sr, s, s->node, &n) < 0 || meta_node_refs(sr->meta, s->node, &refs) < 0)
		return -1;
	if (refs)
		return stale(s, "referenced again");
	if (meta_node_remove(sr->meta, s->node) < 0 || journal_removal(sr, n, "") < 0)
		return -1;
	return commit_and_finish(sr);
}

/* Before the first write into either image: a copy killed from here on
 * leaves a record for the replay to free what it leaked (gc-copy.c). */
static int journal_copy(struct ops_sr *sr, struct pair *pr, const struct meta_node *n,
			const struct meta_node *p)
{
	char id[UUID_STR_LEN];

	if (gc_copy_journal(sr, n, p, id) < 0 || ops_sr_commit(sr) < 0)
		return -1;
	snprintf(pr->copy_id, sizeof pr->copy_id, "%s", id);
	return 0;
}

/* The copy's record goes in the switch's commit: from then on the copy
 * is complete and the target leaks nothing. */
static int drop_copy_record(struct ops_sr *sr, const struct pair *pr)
{
	if (meta_journal_remove(sr->meta, pr->copy_id) == 0 || err_errnum() == ENOENT)
		return 0;
	return -1;
}

/* A step that failed after its copy was journaled (ECANCELED, ESTALE, an
 * I/O error): the record is settled now, the step's own error kept. */
static void settle_copy(const char *type, const char *sr_str, const struct pair *pr)
{
	struct err_record saved = *err_last();
	struct ops_sr *sr = NULL;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0 ||
	    gc_copy_abandon(sr, pr->copy_id) < 0 || ops_sr_commit(sr) < 0)
		log_warn("SR %s: gc: the journal record of an abandoned copy: %s", sr_str,
			 err_last()->msg);
	ops_sr_close(sr);
	err_restore(&saved);
}

/* An attached leaf is copied by its server, always down (an up copy
 * would have to follow every guest write into N).  The room needed is
 * at most what P holds on its own.  Started under the SR lock. */
static int live_prepare(struct pair *pr)
{
	pr->down = true;
	if (count(pr->parent, pr->parent, 0, &pr->bytes) < 0 || pair_room(pr) < 0)
		return -1;
	return gc_live_start(&pr->s, pr->child, pr->parent);
}

/* The direction, the room check, and room in the target for what the
 * copy writes (the store may size images: LVM). */
static int offline_plan(struct ops_sr *sr, struct pair *pr, const struct meta_node *n,
			const struct meta_node *p)
{
	if (pair_direction(pr) < 0 || pair_room(pr) < 0)
		return -1;
	return ops_fit_room(sr, pr->down ? n->image : p->image, 0, pr->bytes);
}

static int pair_prepare(const char *type, const char *sr_str, struct pair *pr)
{
	uint64_t total;
	struct meta_node *n, *p;
	struct ops_sr *sr;
	int rc;

	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	snprintf(pr->sr_uuid, sizeof pr->sr_uuid, "%s", sr->uuid);
	rc = pair_check(sr, &pr->s, &n, &p);
	if (rc == 0)
		rc = pair_paths(sr, pr, n, p);
	if (rc == 0)
		rc = store_space(sr->store, &pr->free_bytes, &total);
	/* The copy is journaled before its first write: a live stream
	 * writes as soon as it starts, an offline copy once it is claimed. */
	if (rc == 0 && pr->s.live) {
		rc = journal_copy(sr, pr, n, p);
		if (rc == 0)
			rc = live_prepare(pr);
	} else if (rc == 0) {
		if (pr->s.volume[0])
			rc = gc_claim_take(sr, pr->s.volume, &pr->claim);
		if (rc == 0)
			rc = offline_plan(sr, pr, n, p);
		if (rc == 0)
			rc = journal_copy(sr, pr, n, p);
	}
	ops_sr_close(sr);
	return rc;
}

static int pair_switch(struct ops_sr *sr, struct pair *pr)
{
	struct meta_node *n, *p;
	struct gc_tree t;
	int rc;

	if (gc_claim_cancelled(&pr->claim))
		return err_set(ECANCELED, "volume %s was wanted: coalesce abandoned", pr->s.volume);
	if (pair_check(sr, &pr->s, &n, &p) < 0 || gc_tree_load(sr, &t) < 0)
		return -1;
	rc = pr->down ? switch_down(sr, n, p) : switch_up(sr, &t, n, p);
	gc_tree_free(&t);
	if (rc == 0)
		rc = drop_copy_record(sr, pr);
	return rc < 0 ? -1 : commit_and_finish(sr);
}

static int live_copy(struct pair *pr)
{
	gc_status_set(pr->sr_uuid, "streaming", &pr->s, 0, 1);
	return gc_live_wait(pr->sr_uuid, &pr->s);
}

static int offline_copy(struct pair *pr)
{
	gc_status_set(pr->sr_uuid, "coalescing", &pr->s, 0, 1);
	return pair_copy(pr);
}

/* Let go of the images the copy held (a killed collector's holds are
 * recognised as dead instead). */
static void release_pair(const char *type, const char *sr_str)
{
	struct store *st = NULL;

	if (store_open(type, sr_str, &st) < 0 || store_holder_release(st, NULL) < 0) {
		log_warn("SR %s: gc: releasing images: %s", sr_str, err_last()->msg);
		err_clear();
	}
	store_close(st);
}

static int run_coalesce(const char *type, const char *sr_str, const struct gc_step *s)
{
	struct pair pr = { .s = *s, .sr_str = sr_str, .logged_tenth = -1, .claim = { .fd = -1 } };
	struct ops_sr *sr = NULL;
	int rc = pair_prepare(type, sr_str, &pr);

	if (rc == 0)
		rc = pr.s.live ? live_copy(&pr) : offline_copy(&pr);
	gc_claim_unlock(&pr.claim); /* nothing touches the leaf any more */
	if (rc == 0) {
		fault_point("gc-coalesce.copied");
		rc = ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr);
	}
	if (rc == 0)
		rc = pair_switch(sr, &pr);
	ops_sr_close(sr); /* a switch that failed half-way is not committed */
	if (rc < 0 && pr.copy_id[0])
		settle_copy(type, sr_str, &pr);
	gc_claim_drop(&pr.claim);
	release_pair(type, sr_str);
	free(pr.below);
	return rc;
}

int gc_step_run(const char *type, const char *sr_str, const struct gc_step *s)
{
	struct ops_sr *sr;
	int rc;

	if (s->kind == GC_COALESCE)
		return run_coalesce(type, sr_str, s);
	if (ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = run_remove(sr, s);
	ops_sr_close(sr);
	return rc;
}
