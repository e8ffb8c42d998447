/* meta/model: the in-memory SR document and its accessors (see lq/meta.h).
 * Arrays grow by realloc; removal keeps order so listings are stable. */
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/meta.h"

int meta_set_str(char **slot, const char *value)
{
	char *c = NULL;

	if (value && !(c = strdup(value)))
		return err_set(ENOMEM, "out of memory");
	free(*slot);
	*slot = c;
	return 0;
}

/* Grow *arr (of *n elements of size sz) by one zeroed element. */
static void *grow(void *arr_p, size_t *n, size_t sz)
{
	void **arr = arr_p;
	char *p = realloc(*arr, (*n + 1) * sz);

	if (!p) {
		err_set(ENOMEM, "out of memory");
		return NULL;
	}
	memset(p + *n * sz, 0, sz);
	*arr = p;
	return p + (*n)++ * sz;
}

static void remove_at(void *arr, size_t *n, size_t sz, size_t i)
{
	char *p = arr;

	memmove(p + i * sz, p + (i + 1) * sz, (*n - i - 1) * sz);
	(*n)--;
}

static void kv_free(struct meta_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].k);
		free(kv[i].v);
	}
	free(kv);
}

static void volume_clear(struct meta_volume *v)
{
	free(v->key);
	free(v->uuid);
	free(v->name);
	free(v->description);
	free(v->node);
	kv_free(v->keys, v->nkeys);
}

static void node_clear(struct meta_node *n)
{
	free(n->uuid);
	free(n->parent);
	free(n->image);
}

static void journal_clear(struct meta_journal *j)
{
	free(j->id);
	free(j->op);
	kv_free(j->args, j->nargs);
}

void meta_free(struct meta_sr *sr)
{
	if (!sr)
		return;
	for (size_t i = 0; i < sr->nvolumes; i++)
		volume_clear(&sr->volumes[i]);
	for (size_t i = 0; i < sr->nnodes; i++)
		node_clear(&sr->nodes[i]);
	for (size_t i = 0; i < sr->njournal; i++)
		journal_clear(&sr->journal[i]);
	free(sr->volumes);
	free(sr->nodes);
	free(sr->journal);
	free(sr->uuid);
	free(sr->name);
	free(sr->description);
	free(sr);
}

struct meta_sr *meta_new(const char *uuid, const char *name, const char *description)
{
	struct meta_sr *sr = calloc(1, sizeof *sr);

	if (!sr) {
		err_set(ENOMEM, "out of memory");
		return NULL;
	}
	sr->version = META_VERSION;
	if (meta_set_str(&sr->uuid, uuid) < 0 || meta_set_str(&sr->name, name ? name : "") < 0 ||
	    meta_set_str(&sr->description, description ? description : "") < 0) {
		meta_free(sr);
		return NULL;
	}
	return sr;
}

struct meta_volume *meta_volume_find(struct meta_sr *sr, const char *key)
{
	for (size_t i = 0; i < sr->nvolumes; i++)
		if (!strcmp(sr->volumes[i].key, key))
			return &sr->volumes[i];
	return NULL;
}

struct meta_volume *meta_volume_add(struct meta_sr *sr, const char *key)
{
	struct meta_volume *v = grow(&sr->volumes, &sr->nvolumes, sizeof *v);

	if (v && meta_set_str(&v->key, key) < 0) {
		sr->nvolumes--;
		return NULL;
	}
	return v;
}

int meta_volume_remove(struct meta_sr *sr, const char *key)
{
	struct meta_volume *v = meta_volume_find(sr, key);

	if (!v)
		return err_set(ENOENT, "no volume %s", key);
	volume_clear(v);
	remove_at(sr->volumes, &sr->nvolumes, sizeof *v, (size_t)(v - sr->volumes));
	return 0;
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
	struct meta_kv *e = kv_find(*kv, *n, k);

	if (e)
		return meta_set_str(&e->v, v);
	e = grow(kv, n, sizeof *e);
	if (!e)
		return -1;
	if (meta_set_str(&e->k, k) < 0 || meta_set_str(&e->v, v) < 0) {
		free(e->k);
		(*n)--;
		return -1;
	}
	return 0;
}

int meta_volume_set_key(struct meta_volume *v, const char *k, const char *val)
{
	return kv_set(&v->keys, &v->nkeys, k, val);
}

void meta_volume_unset_key(struct meta_volume *v, const char *k)
{
	struct meta_kv *e = kv_find(v->keys, v->nkeys, k);

	if (!e)
		return;
	free(e->k);
	free(e->v);
	remove_at(v->keys, &v->nkeys, sizeof *e, (size_t)(e - v->keys));
}

const char *meta_volume_get_key(const struct meta_volume *v, const char *k)
{
	struct meta_kv *e = kv_find(v->keys, v->nkeys, k);

	return e ? e->v : NULL;
}

struct meta_node *meta_node_find(struct meta_sr *sr, const char *uuid)
{
	for (size_t i = 0; i < sr->nnodes; i++)
		if (!strcmp(sr->nodes[i].uuid, uuid))
			return &sr->nodes[i];
	return NULL;
}

struct meta_node *meta_node_add(struct meta_sr *sr, const char *uuid)
{
	struct meta_node *n = grow(&sr->nodes, &sr->nnodes, sizeof *n);

	if (n && meta_set_str(&n->uuid, uuid) < 0) {
		sr->nnodes--;
		return NULL;
	}
	return n;
}

int meta_node_remove(struct meta_sr *sr, const char *uuid)
{
	struct meta_node *n = meta_node_find(sr, uuid);

	if (!n)
		return err_set(ENOENT, "no node %s", uuid);
	node_clear(n);
	remove_at(sr->nodes, &sr->nnodes, sizeof *n, (size_t)(n - sr->nodes));
	return 0;
}

/* Walks from a leaf towards the root; the walk is bounded by the node
 * count so a cycle in a damaged document cannot loop forever. */
static bool chain_contains(struct meta_sr *sr, const char *leaf, const char *uuid)
{
	const char *cur = leaf;

	for (size_t steps = 0; cur && steps <= sr->nnodes; steps++) {
		struct meta_node *n;
		if (!strcmp(cur, uuid))
			return true;
		n = meta_node_find(sr, cur);
		cur = n ? n->parent : NULL;
	}
	return false;
}

bool meta_node_referenced(const struct meta_sr *csr, const char *uuid)
{
	struct meta_sr *sr = (struct meta_sr *)csr;

	for (size_t i = 0; i < sr->nvolumes; i++)
		if (sr->volumes[i].node && chain_contains(sr, sr->volumes[i].node, uuid))
			return true;
	return false;
}

bool meta_image_known(const struct meta_sr *sr, const char *image)
{
	for (size_t i = 0; i < sr->nnodes; i++)
		if (sr->nodes[i].image && !strcmp(sr->nodes[i].image, image))
			return true;
	return false;
}

struct meta_journal *meta_journal_add(struct meta_sr *sr, const char *id, const char *op)
{
	struct meta_journal *j = grow(&sr->journal, &sr->njournal, sizeof *j);

	if (j && (meta_set_str(&j->id, id) < 0 || meta_set_str(&j->op, op) < 0)) {
		free(j->id);
		sr->njournal--;
		return NULL;
	}
	return j;
}

int meta_journal_set_arg(struct meta_journal *j, const char *k, const char *v)
{
	return kv_set(&j->args, &j->nargs, k, v);
}

struct meta_journal *meta_journal_find(struct meta_sr *sr, const char *id)
{
	for (size_t i = 0; i < sr->njournal; i++)
		if (!strcmp(sr->journal[i].id, id))
			return &sr->journal[i];
	return NULL;
}

int meta_journal_remove(struct meta_sr *sr, const char *id)
{
	struct meta_journal *j = meta_journal_find(sr, id);

	if (!j)
		return err_set(ENOENT, "no journal record %s", id);
	journal_clear(j);
	remove_at(sr->journal, &sr->njournal, sizeof *j, (size_t)(j - sr->journal));
	return 0;
}
