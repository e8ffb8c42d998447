/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cache.c: LRU write-back cache of cluster-sized metadata tables.
 *
 * Lookups are a linear scan with a last-hit shortcut: sequential guest
 * I/O hits the same table again and again, and the caches stay small
 * enough (hundreds of entries) for a scan to cost less than a syscall.
 * The caller holds img->lock.
 */
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "qcow2-int.h"

int qcow2_cache_init(struct qcow2_cache *c, int n, uint32_t size)
{
	memset(c, 0, sizeof *c);
	c->e = calloc((size_t)n, sizeof *c->e);
	if (!c->e)
		return err_set(ENOMEM, "out of memory");
	c->n = n;
	c->size = size;
	return 0;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
	for (int i = 0; c->e && i < c->n; i++)
		free(c->e[i].data);
	free(c->e);
	c->e = NULL;
}

static int find(struct qcow2_cache *c, uint64_t off)
{
	if (!off)
		return -1; /* free slots have offset 0 */
	if (c->e[c->last].off == off)
		return c->last;
	for (int i = 0; i < c->n; i++)
		if (c->e[i].off == off)
			return i;
	return -1;
}

/* The least recently used slot, preferring free and clean ones. */
static int victim(const struct qcow2_cache *c)
{
	int best = 0;

	for (int i = 0; i < c->n; i++) {
		if (!c->e[i].off)
			return i;
		if (c->e[i].lru < c->e[best].lru)
			best = i;
	}
	return best;
}

static int fill(struct qcow2_image *img, struct qcow2_cache *c, int i, uint64_t off, bool fresh)
{
	struct qcow2_cache_entry *e = &c->e[i];

	if (!e->data && !(e->data = dio_alloc(c->size)))
		return err_set(ENOMEM, "out of memory");
	e->off = 0;
	e->dirty = fresh;
	if (fresh)
		memset(e->data, 0, c->size);
	else if (qcow2_img_read(img, e->data, c->size, off) < 0)
		return -1;
	e->off = off;
	return 0;
}

int qcow2_cache_get(struct qcow2_image *img, struct qcow2_cache *c, uint64_t off,
		    bool fresh, uint8_t **data)
{
	int i = find(c, off);

	if (!off)
		return err_corrupt("%s: metadata table at offset 0", img->path);
	if (i < 0) {
		i = victim(c);
		if (c->e[i].dirty && qcow2_flush_meta(img) < 0)
			return -1;
		if (fill(img, c, i, off, fresh) < 0)
			return -1;
	} else if (fresh) {
		memset(c->e[i].data, 0, c->size);
		c->e[i].dirty = true;
	}
	c->e[i].lru = ++c->tick;
	c->last = i;
	*data = c->e[i].data;
	return 0;
}

void qcow2_cache_set_dirty(struct qcow2_cache *c, uint64_t off)
{
	int i = find(c, off);

	if (i >= 0)
		c->e[i].dirty = true;
}

bool qcow2_cache_any_dirty(const struct qcow2_cache *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->e[i].dirty)
			return true;
	return false;
}

int qcow2_cache_write_back(struct qcow2_image *img, struct qcow2_cache *c)
{
	for (int i = 0; i < c->n; i++) {
		struct qcow2_cache_entry *e = &c->e[i];

		if (!e->dirty)
			continue;
		fault_point(c == &img->l2c ? "qcow2.l2-write" : "qcow2.refblock-write");
		if (qcow2_img_write(img, e->data, c->size, e->off) < 0)
			return -1;
		e->dirty = false;
	}
	return 0;
}

uint8_t *qcow2_cache_peek(struct qcow2_cache *c, uint64_t off)
{
	int i = find(c, off);

	return i < 0 ? NULL : c->e[i].data;
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off)
{
	int i = find(c, off);

	if (i >= 0) {
		c->e[i].off = 0;
		c->e[i].dirty = false;
		c->e[i].lru = 0;
	}
}
