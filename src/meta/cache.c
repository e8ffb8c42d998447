/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta/cache: the in-memory view of an SR's records (see lq/meta.h).
 *
 * Objects are loaded from the area on first use and kept; removal only
 * marks them, so commit can free their blocks and index entries and
 * pointers handed out stay valid until meta_free. */
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/uuid.h"
#include "meta-int.h"

int meta_set_str(char **slot, const char *value)
{
	char *c = NULL;

	if (value && !(c = strdup(value)))
		return err_set(ENOMEM, "out of memory");
	free(*slot);
	*slot = c;
	return 0;
}

static void kv_free(struct meta_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].k);
		free(kv[i].v);
	}
	free(kv);
}

void meta_volume_free(struct meta_volume *v)
{
	if (!v)
		return;
	free(v->key);
	free(v->uuid);
	free(v->name);
	free(v->description);
	free(v->node);
	kv_free(v->keys, v->nkeys);
	free(v->rec.link);
	free(v);
}

void meta_node_free(struct meta_node *n)
{
	if (!n)
		return;
	free(n->uuid);
	free(n->parent);
	free(n->image);
	free(n->rec.link);
	free(n);
}

void meta_journal_free(struct meta_journal *j)
{
	if (!j)
		return;
	free(j->id);
	free(j->op);
	kv_free(j->args, j->nargs);
	free(j->rec.link);
	free(j);
}

void meta_free(struct meta_sr *sr)
{
	if (!sr)
		return;
	for (size_t i = 0; i < sr->nvols; i++)
		meta_volume_free(sr->vols[i]);
	for (size_t i = 0; i < sr->nnodes_cached; i++)
		meta_node_free(sr->nodes[i]);
	for (size_t i = 0; i < sr->njnl; i++)
		meta_journal_free(sr->jnl[i]);
	free(sr->vols);
	free(sr->nodes);
	free(sr->jnl);
	free(sr->uuid);
	free(sr->name);
	free(sr->description);
	area_close(sr->area);
	free(sr);
}

/* Append p to the pointer array *arr of *n elements. */
static int push(void *arr_p, size_t *n, void *p)
{
	void ***arr = arr_p;
	void **grown = realloc(*arr, (*n + 1) * sizeof *grown);

	if (!grown)
		return err_set(ENOMEM, "out of memory");
	grown[(*n)++] = p;
	*arr = grown;
	return 0;
}

static int new_cache(int fd, bool writable, struct meta_sr **out)
{
	struct meta_sr *sr = calloc(1, sizeof *sr);
	char u[37];

	if (!sr)
		return err_set(ENOMEM, "out of memory");
	if (!(sr->area = area_open(fd, writable))) {
		free(sr);
		return -1;
	}
	meta_uuid_str(sr->area->sr_uuid, u);
	if (meta_set_str(&sr->uuid, u) < 0) {
		meta_free(sr);
		return -1;
	}
	*out = sr;
	return 0;
}

int meta_open_new(int fd, const char *uuid, struct meta_sr **out)
{
	if (new_cache(fd, true, out) < 0)
		return -1;
	if (strcasecmp((*out)->uuid, uuid)) {
		meta_free(*out);
		return err_set(EINVAL, "metadata area holds another SR");
	}
	return 0;
}

/* Read the run of entry e and parse it into o; with rec, note where it
 * is and what it held (commit writes only what changed). */
int meta_obj_read(struct meta_area *a, const struct meta_entry *e, union meta_obj o,
		  struct meta_rec *rec)
{
	unsigned char *buf = malloc((size_t)e->nblocks * META_BLOCK);
	int rc;

	if (!buf)
		return err_set(ENOMEM, "out of memory");
	rc = area_read_run(a, e->first, e->nblocks, buf);
	if (rc == 0)
		rc = rec_parse(a, buf, (size_t)e->nblocks * META_BLOCK, (enum meta_kind)e->kind,
			       e->uuid, o);
	if (rc == 0 && rec) {
		rec->first = e->first;
		rec->nblocks = e->nblocks;
		rec->len = get32(buf + 24);
		rec->crc = get32(buf + 28);
	}
	free(buf);
	return rc;
}

/* The SR record's index entry; without one the area is corrupt. */
static int sr_entry(struct meta_sr *sr, struct meta_entry *e)
{
	if (ix_lookup(sr->area, sr->area->sr_uuid, e) < 0)
		return err_errnum() == ENOENT ? err_corrupt("metadata area: the SR record is missing")
					      : -1;
	return e->kind == MK_SR ? 0 : err_corrupt("metadata area: the SR record is missing");
}

int meta_open(int fd, bool writable, struct meta_sr **out)
{
	struct meta_entry e;
	struct meta_sr *sr;
	union meta_obj o;

	if (new_cache(fd, writable, &sr) < 0)
		return -1;
	o.sr = sr;
	if (sr_entry(sr, &e) < 0 || meta_obj_read(sr->area, &e, o, &sr->rec) < 0) {
		meta_free(sr);
		return -1;
	}
	*out = sr;
	return 0;
}

static int not_found(const char *what, const char *id)
{
	return err_set(ENOENT, "no %s %.64s", what, id);
}

static const char *link_of(enum meta_kind kind, union meta_obj o)
{
	return kind == MK_VOLUME ? o.vol->node : kind == MK_NODE ? o.node->parent : NULL;
}

static int cache_add(struct meta_sr *sr, enum meta_kind kind, union meta_obj o)
{
	switch (kind) {
	case MK_VOLUME: return push(&sr->vols, &sr->nvols, o.vol);
	case MK_NODE: return push(&sr->nodes, &sr->nnodes_cached, o.node);
	default: return push(&sr->jnl, &sr->njnl, o.jnl);
	}
}

static void obj_free(enum meta_kind kind, union meta_obj o)
{
	if (kind == MK_VOLUME)
		meta_volume_free(o.vol);
	else if (kind == MK_NODE)
		meta_node_free(o.node);
	else
		meta_journal_free(o.jnl);
}

static struct meta_rec *rec_of(enum meta_kind kind, union meta_obj o)
{
	return kind == MK_VOLUME ? &o.vol->rec : kind == MK_NODE ? &o.node->rec : &o.jnl->rec;
}

static int load_entry(struct meta_sr *sr, const struct meta_entry *e, union meta_obj *out)
{
	union meta_obj o;
	struct meta_rec *rec;

	o.vol = calloc(1, e->kind == MK_VOLUME ? sizeof *o.vol
			  : e->kind == MK_NODE ? sizeof *o.node : sizeof *o.jnl);
	if (!o.vol)
		return err_set(ENOMEM, "out of memory");
	rec = rec_of((enum meta_kind)e->kind, o);
	if (meta_obj_read(sr->area, e, o, rec) < 0 ||
	    meta_set_str(&rec->link, link_of((enum meta_kind)e->kind, o)) < 0) {
		obj_free((enum meta_kind)e->kind, o);
		return -1;
	}
	*out = o;
	return 0;
}

/* Load an object of kind from the area into the cache (not cached yet). */
int cache_load(struct meta_sr *sr, enum meta_kind kind, const char *uuid, union meta_obj *out)
{
	struct meta_entry e;
	uint8_t u[16];

	if (meta_uuid_bin(uuid, u) < 0)
		return not_found(kind == MK_VOLUME ? "volume" : kind == MK_NODE ? "node" : "record", uuid);
	if (ix_lookup(sr->area, u, &e) < 0)
		return err_errnum() == ENOENT ? not_found("object", uuid) : -1;
	if (e.kind != kind)
		return not_found("object of that kind", uuid);
	if (load_entry(sr, &e, out) < 0)
		return -1;
	if (cache_add(sr, kind, *out) < 0) {
		obj_free(kind, *out);
		return -1;
	}
	return 0;
}

/* The cached object of kind with that id (removed or not), or NULL. */
static union meta_obj cached(struct meta_sr *sr, enum meta_kind kind, const char *id)
{
	union meta_obj o = { NULL };

	if (kind == MK_VOLUME) {
		for (size_t i = 0; i < sr->nvols && !o.vol; i++)
			if (!strcmp(sr->vols[i]->key, id))
				o.vol = sr->vols[i];
	} else if (kind == MK_NODE) {
		for (size_t i = 0; i < sr->nnodes_cached && !o.node; i++)
			if (!strcmp(sr->nodes[i]->uuid, id))
				o.node = sr->nodes[i];
	} else {
		for (size_t i = 0; i < sr->njnl && !o.jnl; i++)
			if (!strcmp(sr->jnl[i]->id, id))
				o.jnl = sr->jnl[i];
	}
	return o;
}

/* Ids are the lowercase uuids meta hands out; any other spelling of
 * one is another key, so it names nothing. */
static bool id_canonical(const char *id)
{
	uint8_t b[16];
	char c[37];

	if (meta_uuid_bin(id, b) < 0)
		return false;
	meta_uuid_str(b, c);
	return !strcmp(c, id);
}

static int find(struct meta_sr *sr, enum meta_kind kind, const char *id, union meta_obj *out)
{
	union meta_obj o;

	if (!id_canonical(id))
		return not_found("object", id);
	o = cached(sr, kind, id);

	if (o.vol) {
		if (rec_of(kind, o)->removed)
			return not_found("object", id);
		*out = o;
		return 0;
	}
	return cache_load(sr, kind, id, out);
}

int meta_volume_find(struct meta_sr *sr, const char *key, struct meta_volume **out)
{
	union meta_obj o;

	if (find(sr, MK_VOLUME, key, &o) < 0)
		return -1;
	*out = o.vol;
	return 0;
}

int meta_node_find(struct meta_sr *sr, const char *uuid, struct meta_node **out)
{
	union meta_obj o;

	if (find(sr, MK_NODE, uuid, &o) < 0)
		return -1;
	*out = o.node;
	return 0;
}

int meta_journal_find(struct meta_sr *sr, const char *id, struct meta_journal **out)
{
	union meta_obj o;

	if (find(sr, MK_JOURNAL, id, &o) < 0)
		return -1;
	*out = o.jnl;
	return 0;
}

/* Fields of a removed object are dropped when it is added again; its
 * place on disk and its loaded link stay for commit. */
static void clear_fields(enum meta_kind kind, union meta_obj o)
{
	struct meta_rec keep = *rec_of(kind, o);

	if (kind == MK_VOLUME) {
		struct meta_volume *v = o.vol;
		free(v->uuid); free(v->name); free(v->description); free(v->node);
		kv_free(v->keys, v->nkeys);
		*v = (struct meta_volume){ .key = v->key };
	} else if (kind == MK_NODE) {
		struct meta_node *n = o.node;
		free(n->parent); free(n->image);
		*n = (struct meta_node){ .uuid = n->uuid, .refs = n->refs };
	} else {
		struct meta_journal *j = o.jnl;
		free(j->op);
		kv_free(j->args, j->nargs);
		*j = (struct meta_journal){ .id = j->id };
	}
	keep.removed = false;
	*rec_of(kind, o) = keep;
}

static int add(struct meta_sr *sr, enum meta_kind kind, const char *id, union meta_obj *out)
{
	union meta_obj o = cached(sr, kind, id);
	uint8_t u[16];
	struct meta_entry e;

	if (o.vol && !rec_of(kind, o)->removed)
		return err_set(EEXIST, "object %.64s already exists", id);
	if (o.vol) {
		clear_fields(kind, o);
		*out = o;
		return 0;
	}
	if (meta_uuid_bin(id, u) < 0)
		return err_set(EINVAL, "'%.64s' is not a uuid", id);
	if (ix_lookup(sr->area, u, &e) == 0)
		return err_set(EEXIST, "object %.64s already exists", id);
	if (err_errnum() != ENOENT)
		return -1;
	o.vol = calloc(1, kind == MK_VOLUME ? sizeof *o.vol
			  : kind == MK_NODE ? sizeof *o.node : sizeof *o.jnl);
	if (!o.vol)
		return err_set(ENOMEM, "out of memory");
	if (meta_set_str(kind == MK_VOLUME ? &o.vol->key : kind == MK_NODE ? &o.node->uuid : &o.jnl->id,
			 id) < 0 || cache_add(sr, kind, o) < 0) {
		obj_free(kind, o);
		return -1;
	}
	*out = o;
	return 0;
}

struct meta_volume *meta_volume_add(struct meta_sr *sr, const char *key)
{
	union meta_obj o;

	return add(sr, MK_VOLUME, key, &o) < 0 ? NULL : o.vol;
}

struct meta_node *meta_node_add(struct meta_sr *sr, const char *uuid)
{
	union meta_obj o;

	return add(sr, MK_NODE, uuid, &o) < 0 ? NULL : o.node;
}

struct meta_journal *meta_journal_add(struct meta_sr *sr, const char *id, const char *op)
{
	union meta_obj o;

	if (add(sr, MK_JOURNAL, id, &o) < 0)
		return NULL;
	if (meta_set_str(&o.jnl->op, op) < 0) {
		o.jnl->rec.removed = true;
		return NULL;
	}
	return o.jnl;
}

static int remove_obj(struct meta_sr *sr, enum meta_kind kind, const char *id)
{
	union meta_obj o;

	if (find(sr, kind, id, &o) < 0)
		return -1;
	rec_of(kind, o)->removed = true;
	return 0;
}

int meta_volume_remove(struct meta_sr *sr, const char *key)
{
	return remove_obj(sr, MK_VOLUME, key);
}

int meta_node_remove(struct meta_sr *sr, const char *uuid)
{
	return remove_obj(sr, MK_NODE, uuid);
}

int meta_journal_remove(struct meta_sr *sr, const char *id)
{
	return remove_obj(sr, MK_JOURNAL, id);
}

static struct meta_kv *kv_find(struct meta_kv *kv, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i].k, k))
			return &kv[i];
	return NULL;
}

static int kv_set(struct meta_kv **kv, size_t *n, const char *k, const char *v)
{
	struct meta_kv *e = kv_find(*kv, *n, k), *grown;

	if (e)
		return meta_set_str(&e->v, v);
	if (!(grown = realloc(*kv, (*n + 1) * sizeof *grown)))
		return err_set(ENOMEM, "out of memory");
	*kv = grown;
	e = &grown[*n];
	*e = (struct meta_kv){ NULL, NULL };
	if (meta_set_str(&e->k, k) < 0 || meta_set_str(&e->v, v) < 0) {
		free(e->k);
		return -1;
	}
	(*n)++;
	return 0;
}

int meta_volume_set_key(struct meta_volume *v, const char *k, const char *val)
{
	return kv_set(&v->keys, &v->nkeys, k, val);
}

void meta_volume_unset_key(struct meta_volume *v, const char *k)
{
	struct meta_kv *e = kv_find(v->keys, v->nkeys, k);
	size_t i;

	if (!e)
		return;
	i = (size_t)(e - v->keys);
	free(e->k);
	free(e->v);
	memmove(e, e + 1, (v->nkeys - i - 1) * sizeof *e);
	v->nkeys--;
}

const char *meta_volume_get_key(const struct meta_volume *v, const char *k)
{
	struct meta_kv *e = kv_find(v->keys, v->nkeys, k);

	return e ? e->v : NULL;
}

int meta_journal_set_arg(struct meta_journal *j, const char *k, const char *v)
{
	return kv_set(&j->args, &j->nargs, k, v);
}

const char *meta_journal_get_arg(const struct meta_journal *j, const char *k)
{
	struct meta_kv *e = kv_find(j->args, j->nargs, k);

	return e ? e->v : NULL;
}

/* Change of uuid's refs by the cached, uncommitted links. */
static int64_t pending_delta(const struct meta_sr *sr, const char *uuid)
{
	int64_t d = 0;

	for (size_t i = 0; i < sr->nvols; i++) {
		const struct meta_volume *v = sr->vols[i];
		d -= v->rec.link && !strcmp(v->rec.link, uuid);
		d += !v->rec.removed && v->node && !strcmp(v->node, uuid);
	}
	for (size_t i = 0; i < sr->nnodes_cached; i++) {
		const struct meta_node *n = sr->nodes[i];
		d -= n->rec.link && !strcmp(n->rec.link, uuid);
		d += !n->rec.removed && n->parent && !strcmp(n->parent, uuid);
	}
	return d;
}

int meta_node_refs(struct meta_sr *sr, const char *uuid, uint64_t *n)
{
	struct meta_node *nd;
	int64_t d;

	if (meta_node_find(sr, uuid, &nd) < 0)
		return -1;
	d = pending_delta(sr, uuid);
	if (d < 0 && (uint64_t)-d > nd->refs)
		return err_corrupt("metadata: refs of node %s would drop below 0", uuid);
	*n = (uint64_t)((int64_t)nd->refs + d);
	return 0;
}

/* The first uuid in an image name: each store puts the node's uuid in
 * its own form ("<uuid>.qcow2", "n-<uuid>"). */
static bool image_uuid(const char *image, char u[37])
{
	size_t len = strlen(image);

	for (size_t i = 0; i + 36 <= len; i++) {
		memcpy(u, image + i, 36);
		u[36] = '\0';
		if (uuid_is_valid(u))
			return true;
	}
	return false;
}

int meta_image_known(struct meta_sr *sr, const char *image, bool *known)
{
	char u[37];
	struct meta_node *n;

	*known = false;
	if (!image_uuid(image, u))
		return 0;
	if (meta_node_find(sr, u, &n) < 0)
		return err_errnum() == ENOENT ? 0 : -1;
	*known = n->image && !strcmp(n->image, image);
	return 0;
}
