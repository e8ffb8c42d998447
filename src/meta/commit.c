/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta/commit: every cached change as one transaction.
 *
 * Order: node refs from the changed links (a volume's leaf, a node's
 * parent), object counts, generation, then every record re-formatted and
 * written only if its bytes changed (or it was added or removed), with
 * the index and bitmap blocks it touches and the SR record; then the WAL
 * commit (area.c).  A failure after the cache was changed marks it
 * broken: the caller closes it, and the area still holds the old state. */
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "meta-int.h"

struct delta {
	const char *uuid;
	int d;
};

static int delta_add(struct delta **ds, size_t *n, const char *uuid, int d)
{
	struct delta *grown;

	if (!uuid)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*ds)[i].uuid, uuid)) {
			(*ds)[i].d += d;
			return 0;
		}
	if (!(grown = realloc(*ds, (*n + 1) * sizeof *grown)))
		return err_set(ENOMEM, "out of memory");
	grown[(*n)++] = (struct delta){ uuid, d };
	*ds = grown;
	return 0;
}

static int collect(struct meta_sr *sr, struct delta **ds, size_t *n)
{
	for (size_t i = 0; i < sr->nvols; i++) {
		struct meta_volume *v = sr->vols[i];
		if (delta_add(ds, n, v->rec.link, -1) < 0 ||
		    delta_add(ds, n, v->rec.removed ? NULL : v->node, +1) < 0)
			return -1;
	}
	for (size_t i = 0; i < sr->nnodes_cached; i++) {
		struct meta_node *nd = sr->nodes[i];
		if (delta_add(ds, n, nd->rec.link, -1) < 0 ||
		    delta_add(ds, n, nd->rec.removed ? NULL : nd->parent, +1) < 0)
			return -1;
	}
	return 0;
}

static struct meta_node *cached_node(struct meta_sr *sr, const char *uuid)
{
	for (size_t i = 0; i < sr->nnodes_cached; i++)
		if (!strcmp(sr->nodes[i]->uuid, uuid))
			return sr->nodes[i];
	return NULL;
}

static int apply_delta(struct meta_sr *sr, const struct delta *d)
{
	struct meta_node *n = cached_node(sr, d->uuid);

	if (d->d == 0)
		return 0;
	if (n && n->rec.removed && d->d > 0)
		return err_set(EINVAL, "metadata: link to removed node %s", d->uuid);
	if (!n && meta_node_find(sr, d->uuid, &n) < 0)
		return err_errnum() == ENOENT
			       ? err_set(EINVAL, "metadata: link to unknown node %s", d->uuid) : -1;
	if (d->d < 0 && (uint64_t)-d->d > n->refs)
		return err_corrupt("metadata: refs of node %s would drop below 0", d->uuid);
	if (d->d > 0 && (uint64_t)d->d > META_U63_MAX - n->refs)
		return err_corrupt("metadata: refs of node %s out of range", d->uuid);
	n->refs = (uint64_t)((int64_t)n->refs + d->d);
	return 0;
}

/* The loop may load nodes; they add no delta (loaded link == parent). */
static int update_refs(struct meta_sr *sr)
{
	struct delta *ds = NULL;
	size_t n = 0;
	int rc = collect(sr, &ds, &n);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = apply_delta(sr, &ds[i]);
	free(ds);
	for (size_t i = 0; rc == 0 && i < sr->nnodes_cached; i++) {
		struct meta_node *nd = sr->nodes[i];
		if (nd->rec.removed && nd->rec.nblocks && nd->refs)
			rc = err_set(EBUSY, "metadata: node %s is still referenced (%llu)", nd->uuid,
				     (unsigned long long)nd->refs);
	}
	return rc;
}

/* A count out of its range would be written into an SR record that no
 * open could read back: a damaged count is refused instead. */
static int count(uint64_t *c, const struct meta_rec *r)
{
	if (r->nblocks && r->removed) {
		if (*c == 0)
			return err_corrupt("metadata: an object count of the SR record would drop below 0");
		(*c)--;
	} else if (!r->nblocks && !r->removed) {
		if (*c >= META_U63_MAX)
			return err_corrupt("metadata: an object count of the SR record is out of range");
		(*c)++;
	}
	return 0;
}

static int update_counts(struct meta_sr *sr)
{
	for (size_t i = 0; i < sr->nvols; i++)
		if (count(&sr->nvolumes, &sr->vols[i]->rec) < 0)
			return -1;
	for (size_t i = 0; i < sr->nnodes_cached; i++)
		if (count(&sr->nnodes, &sr->nodes[i]->rec) < 0)
			return -1;
	for (size_t i = 0; i < sr->njnl; i++)
		if (count(&sr->njournal, &sr->jnl[i]->rec) < 0)
			return -1;
	return 0;
}

static int put_run(struct meta_area *a, uint32_t first, uint32_t n, const unsigned char *run)
{
	for (uint32_t i = 0; i < n; i++) {
		unsigned char *blk;
		if (area_dirty(a, first + i, &blk) < 0)
			return -1;
		memcpy(blk, run + (size_t)i * META_BLOCK, META_BLOCK);
	}
	return 0;
}

/* Place the image run: in place if the size is unchanged, else anew. */
static int place(struct meta_area *a, const uint8_t u[16], enum meta_kind kind,
		 struct meta_rec *rec, uint32_t need, const unsigned char *run)
{
	struct meta_entry e = { .kind = (uint8_t)kind, .nblocks = (uint16_t)need };
	uint32_t old = rec->nblocks;

	memcpy(e.uuid, u, 16);
	if (old == need) {
		e.first = rec->first;
	} else {
		if ((old && bm_free(a, rec->first, old) < 0) || bm_alloc(a, need, &e.first) < 0)
			return -1;
		if ((old ? ix_update(a, &e) : ix_insert(a, &e)) < 0)
			return -1;
	}
	if (put_run(a, e.first, need, run) < 0)
		return -1;
	rec->first = e.first;
	rec->nblocks = need;
	return 0;
}

static int drop(struct meta_area *a, const uint8_t u[16], struct meta_rec *rec)
{
	if (!rec->nblocks)
		return 0;
	if (bm_free(a, rec->first, rec->nblocks) < 0 || ix_delete(a, u) < 0)
		return -1;
	rec->nblocks = 0;
	return 0;
}

static int write_obj(struct meta_sr *sr, enum meta_kind kind, union meta_obj o, const char *id,
		     struct meta_rec *rec)
{
	unsigned char *run = NULL;
	char *payload = NULL;
	size_t len = 0;
	uint8_t u[16];
	uint32_t need;
	int rc = -1;

	if (meta_uuid_bin(id, u) < 0)
		return err_set(EINVAL, "'%.64s' is not a uuid", id);
	if (rec->removed)
		return drop(sr->area, u, rec);
	if (rec_format(kind, o, &payload, &len) < 0)
		return -1;
	need = rec_blocks_for(len);
	if (!(run = calloc(need, META_BLOCK))) {
		rc = err_set(ENOMEM, "out of memory");
		goto out;
	}
	rec_image(run, kind, u, payload, len);
	if (rec->nblocks && rec->len == len && rec->crc == get32(run + 28)) {
		rc = 0; /* unchanged */
		goto out;
	}
	rc = place(sr->area, u, kind, rec, need, run);
	rec->len = (uint32_t)len;
	rec->crc = get32(run + 28);
out:
	free(run);
	free(payload);
	return rc;
}

static int write_all(struct meta_sr *sr)
{
	union meta_obj o;

	for (size_t i = 0; i < sr->nvols; i++) {
		o.vol = sr->vols[i];
		if (write_obj(sr, MK_VOLUME, o, o.vol->key, &o.vol->rec) < 0)
			return -1;
	}
	for (size_t i = 0; i < sr->nnodes_cached; i++) {
		o.node = sr->nodes[i];
		if (write_obj(sr, MK_NODE, o, o.node->uuid, &o.node->rec) < 0)
			return -1;
	}
	for (size_t i = 0; i < sr->njnl; i++) {
		o.jnl = sr->jnl[i];
		if (write_obj(sr, MK_JOURNAL, o, o.jnl->id, &o.jnl->rec) < 0)
			return -1;
	}
	o.sr = sr;
	return write_obj(sr, MK_SR, o, sr->uuid, &sr->rec);
}

/* After the transaction is durable: loaded links are the current ones. */
static int settle(struct meta_sr *sr)
{
	for (size_t i = 0; i < sr->nvols; i++)
		if (meta_set_str(&sr->vols[i]->rec.link,
				 sr->vols[i]->rec.removed ? NULL : sr->vols[i]->node) < 0)
			return -1;
	for (size_t i = 0; i < sr->nnodes_cached; i++)
		if (meta_set_str(&sr->nodes[i]->rec.link,
				 sr->nodes[i]->rec.removed ? NULL : sr->nodes[i]->parent) < 0)
			return -1;
	return 0;
}

int meta_commit(struct meta_sr *sr)
{
	int rc;

	if (sr->broken)
		return err_set(EINVAL, "metadata: an earlier commit failed; reopen the SR");
	if (!sr->area->writable)
		return err_set(EROFS, "metadata: SR opened read-only");
	if (sr->generation >= META_U63_MAX)
		return err_set(EOVERFLOW, "metadata: generation exhausted");
	sr->broken = true;
	if (update_refs(sr) < 0 || update_counts(sr) < 0)
		goto fail;
	sr->generation++;
	if (write_all(sr) < 0)
		goto fail;
	ix_seal(sr->area);
	rc = area_commit_tx(sr->area, sr->generation);
	area_drop_dirty(sr->area);
	if (rc < 0 || settle(sr) < 0)
		return -1;
	sr->broken = false;
	return 0;
fail:
	area_drop_dirty(sr->area);
	return -1;
}
