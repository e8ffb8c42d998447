/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta/list: whole-SR walks: the volume listing (SR.ls) and the full
 * consistency check (SR.attach).  Both read the whole index with one
 * read, then the records in block order, reusing one parser context. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "meta-int.h"

struct scan {
	struct meta_entry *e;
	size_t n;
};

struct each {
	int (*volume)(struct meta_sr *, struct meta_volume *, struct meta_node *, void *);
	int (*node)(struct meta_sr *, struct meta_node *, void *);
	int (*journal)(struct meta_sr *, struct meta_journal *, void *);
	void *arg;
	const struct meta_entry *nodes; /* node entries by uuid (volume walk) */
	size_t nnodes;
};

static int by_block(const void *x, const void *y)
{
	const struct meta_entry *a = x, *b = y;

	return a->first < b->first ? -1 : a->first > b->first;
}

static int by_uuid(const void *x, const void *y)
{
	return memcmp(((const struct meta_entry *)x)->uuid, ((const struct meta_entry *)y)->uuid, 16);
}

/* Every entry of the index (of kind, or all if kind is 0). */
static int scan_index(struct meta_area *a, int kind, struct scan *s)
{
	size_t bytes = (size_t)a->g.nbuckets * META_BLOCK;
	unsigned char *ix = malloc(bytes);
	int rc = -1;

	s->e = NULL;
	s->n = 0;
	if (!ix)
		return err_set(ENOMEM, "out of memory");
	if (area_read_run(a, a->g.index_start, a->g.nbuckets, ix) < 0)
		goto out;
	for (uint32_t b = 0; b < a->g.nbuckets; b++) {
		const unsigned char *blk = ix + (size_t)b * META_BLOCK;
		uint32_t count = get32(blk + 4);
		struct meta_entry *grown;
		if (ix_check_bucket(a, b, blk) < 0)
			goto out;
		if (!count)
			continue;
		if (!(grown = realloc(s->e, (s->n + count) * sizeof *grown))) {
			err_set(ENOMEM, "out of memory");
			goto out;
		}
		s->e = grown;
		for (uint32_t i = 0; i < count; i++) {
			ix_entry_decode(blk + META_HDR + (size_t)i * META_ENTRY, &s->e[s->n]);
			if (!kind || s->e[s->n].kind == kind)
				s->n++;
		}
	}
	rc = 0;
out:
	free(ix);
	if (rc < 0) {
		free(s->e);
		s->e = NULL;
	}
	return rc;
}


/* The volume's leaf from the node entries already in memory: no index
 * lookup and nothing cached, so a listing costs the same per volume at
 * any SR size.  *out stays NULL if the volume names no indexed node. */
static int leaf_of(struct meta_sr *sr, const struct meta_volume *v, const struct each *w,
		   struct meta_node **out)
{
	struct meta_entry key;
	const struct meta_entry *e;
	int rc;

	*out = NULL;
	if (meta_uuid_bin(v->node, key.uuid) < 0 ||
	    !(e = bsearch(&key, w->nodes, w->nnodes, sizeof *w->nodes, by_uuid)))
		return 0;
	if (!(*out = calloc(1, sizeof **out)))
		return err_set(ENOMEM, "out of memory");
	rc = meta_obj_read(sr->area, e, (union meta_obj){ .node = *out }, NULL);
	if (rc < 0) {
		meta_node_free(*out);
		*out = NULL;
	}
	return rc;
}

static int each_volume(struct meta_sr *sr, const struct meta_entry *e, struct each *w)
{
	struct meta_volume *v = calloc(1, sizeof *v);
	struct meta_node *leaf = NULL;
	int rc;

	if (!v)
		return err_set(ENOMEM, "out of memory");
	rc = meta_obj_read(sr->area, e, (union meta_obj){ .vol = v }, NULL);
	if (rc == 0)
		rc = leaf_of(sr, v, w, &leaf);
	if (rc == 0)
		rc = w->volume(sr, v, leaf, w->arg);
	meta_node_free(leaf);
	meta_volume_free(v);
	return rc;
}

static int each_node(struct meta_sr *sr, const struct meta_entry *e, struct each *w)
{
	struct meta_node *n = calloc(1, sizeof *n);
	int rc;

	if (!n)
		return err_set(ENOMEM, "out of memory");
	rc = meta_obj_read(sr->area, e, (union meta_obj){ .node = n }, NULL);
	if (rc == 0)
		rc = w->node(sr, n, w->arg);
	meta_node_free(n);
	return rc;
}

static int each_journal(struct meta_sr *sr, const struct meta_entry *e, struct each *w)
{
	struct meta_journal *j = calloc(1, sizeof *j);
	int rc;

	if (!j)
		return err_set(ENOMEM, "out of memory");
	rc = meta_obj_read(sr->area, e, (union meta_obj){ .jnl = j }, NULL);
	if (rc == 0)
		rc = w->journal(sr, j, w->arg);
	meta_journal_free(j);
	return rc;
}

static int each_one(struct meta_sr *sr, enum meta_kind kind, const struct meta_entry *e,
		    struct each *w)
{
	switch (kind) {
	case MK_VOLUME:
		return each_volume(sr, e, w);
	case MK_NODE:
		return each_node(sr, e, w);
	default:
		assert(kind == MK_JOURNAL);
		return each_journal(sr, e, w);
	}
}

/* Move the entries of kind to the front of s->e; returns their number. */
static size_t gather(struct scan *s, enum meta_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].kind == kind) {
			struct meta_entry t = s->e[n];
			s->e[n++] = s->e[i];
			s->e[i] = t;
		}
	return n;
}

/* The committed objects of one kind, in block order (one pass over the
 * area).  A volume walk keeps the node entries, sorted by uuid, in front
 * for leaf_of. */
static int each_kind(struct meta_sr *sr, enum meta_kind kind, struct each *w)
{
	struct scan s, rest;
	size_t n;
	int rc = 0;

	if (scan_index(sr->area, 0, &s) < 0)
		return -1;
	w->nnodes = kind == MK_VOLUME ? gather(&s, MK_NODE) : 0;
	w->nodes = s.e;
	qsort(s.e, w->nnodes, sizeof *s.e, by_uuid);
	rest = (struct scan){ s.e + w->nnodes, s.n - w->nnodes };
	n = gather(&rest, kind);
	qsort(rest.e, n, sizeof *rest.e, by_block);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = each_one(sr, kind, &rest.e[i], w);
	free(s.e);
	return rc;
}

int meta_volume_each(struct meta_sr *sr,
		     int (*fn)(struct meta_sr *, struct meta_volume *, struct meta_node *, void *),
		     void *arg)
{
	struct each w = { .volume = fn, .arg = arg };

	return each_kind(sr, MK_VOLUME, &w);
}

int meta_node_each(struct meta_sr *sr, int (*fn)(struct meta_sr *, struct meta_node *, void *),
		   void *arg)
{
	struct each w = { .node = fn, .arg = arg };

	return each_kind(sr, MK_NODE, &w);
}

int meta_journal_each(struct meta_sr *sr,
		      int (*fn)(struct meta_sr *, struct meta_journal *, void *), void *arg)
{
	struct each w = { .journal = fn, .arg = arg };

	return each_kind(sr, MK_JOURNAL, &w);
}

/* ---- meta_check ---- */

struct ck {
	struct meta_entry *e;      /* all entries, sorted by uuid */
	size_t n;
	struct meta_node **node;   /* per entry, NULL unless a node */
	uint64_t *refs;            /* computed refs per entry */
	uint8_t *mark;             /* ck_chain's walk state per entry */
	uint64_t counts[MK_JOURNAL + 1];
};

static ssize_t ck_index(const struct ck *c, const char *uuid)
{
	struct meta_entry key;
	struct meta_entry *hit;

	if (meta_uuid_bin(uuid, key.uuid) < 0)
		return -1;
	hit = bsearch(&key, c->e, c->n, sizeof *c->e, by_uuid);
	return hit ? hit - c->e : -1;
}

/* A link must name a node; its computed refs go up by one. */
static int ck_link(struct ck *c, const char *from, const char *to)
{
	ssize_t i = ck_index(c, to);

	if (i < 0 || !c->node[i])
		return err_corrupt("SR metadata: %s refers to missing node %.40s", from, to);
	c->refs[i]++;
	return 0;
}

/* Entry index of node j's parent, or -1 (none, or not a node). */
static ssize_t ck_up(const struct ck *c, ssize_t j)
{
	ssize_t p = c->node[j]->parent ? ck_index(c, c->node[j]->parent) : -1;

	return p >= 0 && c->node[p] ? p : -1;
}

/* Walk up from node i marking the path (1); meeting the path again is a
 * cycle; a node cleared (2) by an earlier walk ends it.  Each node is
 * walked once, so a deep chain costs O(nodes), not O(nodes * depth). */
static int ck_chain(struct ck *c, size_t i)
{
	ssize_t j = (ssize_t)i;
	int rc = 0;

	for (; j >= 0 && c->mark[j] == 0; j = ck_up(c, j))
		c->mark[j] = 1;
	if (j >= 0 && c->mark[j] == 1)
		rc = err_corrupt("SR metadata: cycle in the parents of node %s", c->node[i]->uuid);
	for (j = (ssize_t)i; j >= 0 && c->mark[j] == 1; j = ck_up(c, j))
		c->mark[j] = 2;
	return rc;
}

static int ck_object(struct meta_sr *sr, struct ck *c, size_t i)
{
	const struct meta_entry *e = &c->e[i];
	union meta_obj o;
	int rc;

	c->counts[e->kind]++;
	if (e->kind == MK_SR)
		return memcmp(e->uuid, sr->area->sr_uuid, 16)
			       ? err_corrupt("SR metadata: a second SR record") : 0;
	o.vol = calloc(1, e->kind == MK_VOLUME ? sizeof *o.vol
			  : e->kind == MK_NODE ? sizeof *o.node : sizeof *o.jnl);
	if (!o.vol)
		return err_set(ENOMEM, "out of memory");
	rc = meta_obj_read(sr->area, e, o, NULL);
	if (e->kind == MK_NODE) {
		c->node[i] = o.node;
		return rc;
	}
	if (rc == 0 && e->kind == MK_VOLUME)
		rc = ck_link(c, o.vol->key, o.vol->node);
	e->kind == MK_VOLUME ? meta_volume_free(o.vol) : meta_journal_free(o.jnl);
	return rc;
}

static int ck_nodes(struct ck *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->node[i] && c->node[i]->parent && ck_link(c, c->node[i]->uuid, c->node[i]->parent) < 0)
			return -1;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->node[i])
			continue;
		if (c->node[i]->refs != c->refs[i])
			return err_corrupt("SR metadata: node %s records %llu refs, has %llu",
					   c->node[i]->uuid, (unsigned long long)c->node[i]->refs,
					   (unsigned long long)c->refs[i]);
		if (ck_chain(c, i) < 0)
			return -1;
	}
	return 0;
}

static int ck_counts(const struct meta_sr *sr, const struct ck *c)
{
	if (c->counts[MK_SR] != 1 || c->counts[MK_VOLUME] != sr->nvolumes ||
	    c->counts[MK_NODE] != sr->nnodes || c->counts[MK_JOURNAL] != sr->njournal)
		return err_corrupt("SR metadata: object counts differ from the SR record");
	return 0;
}

int meta_check(struct meta_sr *sr)
{
	struct ck c = { 0 };
	struct scan s;
	int rc = -1;

	if (scan_index(sr->area, 0, &s) < 0)
		return -1;
	c.e = s.e;
	c.n = s.n;
	qsort(c.e, c.n, sizeof *c.e, by_uuid);
	for (size_t i = 1; i < c.n; i++)
		if (!memcmp(c.e[i - 1].uuid, c.e[i].uuid, 16)) {
			err_corrupt("SR metadata: an object is indexed twice");
			goto out;
		}
	if (bm_check_runs(sr->area, c.e, c.n) < 0)
		goto out;
	c.node = calloc(c.n + 1, sizeof *c.node);
	c.refs = calloc(c.n + 1, sizeof *c.refs);
	c.mark = calloc(c.n + 1, 1);
	if (!c.node || !c.refs || !c.mark) {
		err_set(ENOMEM, "out of memory");
		goto out;
	}
	/* Nodes first, so volumes can resolve their leaf. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c.n; i++)
			if ((c.e[i].kind == MK_NODE) == (pass == 0) && ck_object(sr, &c, i) < 0)
				goto out;
	rc = ck_nodes(&c) < 0 || ck_counts(sr, &c) < 0 ? -1 : 0;
out:
	for (size_t i = 0; c.node && i < c.n; i++)
		meta_node_free(c.node[i]);
	free(c.node);
	free(c.refs);
	free(c.mark);
	free(c.e);
	return rc;
}
