/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store: the wrappers every caller goes through (see lq/store.h).
 *
 * They pick the implementation by SR type and check the lock rule in one
 * place: a change without the exclusive SR lock is a bug in the caller,
 * so it is asserted rather than reported. */
#include <assert.h>
#include <string.h>

#include "lq/err.h"
#include "lq/store.h"

static const struct store_ops *const store_impls[] = {
	&store_file_ops,
	&store_lvm_ops,
};

static const struct store_ops *store_find(const char *type)
{
	for (size_t i = 0; i < sizeof store_impls / sizeof store_impls[0]; i++)
		if (!strcmp(store_impls[i]->type, type))
			return store_impls[i];
	return NULL;
}

static const struct store_ops *store_need(const char *type)
{
	const struct store_ops *so = store_find(type);

	if (!so)
		err_set(EINVAL, "no store for SR type '%.64s'", type);
	return so;
}

static void store_need_exclusive(const struct store *s)
{
	assert(s && s->lock == STORE_EXCLUSIVE);
}

const char *store_type_of_root(const char *root)
{
	const char *fallback = NULL;

	for (size_t i = 0; i < sizeof store_impls / sizeof store_impls[0]; i++) {
		if (!store_impls[i]->root_claimed)
			fallback = store_impls[i]->type;
		else if (store_impls[i]->root_claimed(root))
			return store_impls[i]->type;
	}
	assert(fallback);
	return fallback;
}

bool store_type_known(const char *type)
{
	return store_find(type) != NULL;
}

int store_sr_config(const char *type, struct json_object *config, const char *uuid,
		    char **root)
{
	const struct store_ops *so = store_need(type);

	return so ? so->sr_config(config, uuid, root) : -1;
}

int store_open(const char *type, const char *root, struct store **out)
{
	const struct store_ops *so = store_need(type);

	if (!so || so->open(root, out) < 0)
		return -1;
	assert((*out)->ops == so && (*out)->lock == STORE_UNLOCKED);
	return 0;
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_lock(struct store *s, enum store_lock mode)
{
	assert(s->lock == STORE_UNLOCKED && mode != STORE_UNLOCKED);
	if (s->ops->lock(s, mode) < 0)
		return -1;
	s->lock = mode;
	return 0;
}

void store_unlock(struct store *s)
{
	if (s->lock == STORE_UNLOCKED)
		return;
	s->ops->unlock(s);
	s->lock = STORE_UNLOCKED;
}

int store_sr_prepare(struct store *s, struct json_object *config)
{
	return s->ops->sr_prepare(s, config);
}

bool store_sr_exists(struct store *s)
{
	return s->ops->sr_exists(s);
}

int store_sr_remove(struct store *s)
{
	store_need_exclusive(s);
	return s->ops->sr_remove(s);
}

int store_meta_open(struct store *s, bool writable, int *fd)
{
	assert(s->lock != STORE_UNLOCKED);
	if (writable)
		store_need_exclusive(s);
	return s->ops->meta_open(s, writable, fd);
}

int store_meta_build(struct store *s, int (*fill)(int fd, void *arg), void *arg)
{
	store_need_exclusive(s);
	return s->ops->meta_build(s, fill, arg);
}

bool store_image_name_ok(const struct store *s, const char *image)
{
	return s->ops->image_name_ok(image);
}

int store_node_alloc(struct store *s, const char *node_uuid, uint64_t room,
		     char *image, size_t n)
{
	store_need_exclusive(s);
	return s->ops->node_alloc(s, node_uuid, room, image, n);
}

int store_image_create(struct store *s, const char *image, int *fd)
{
	store_need_exclusive(s);
	return s->ops->image_create(s, image, fd);
}

bool store_sizes_images(const struct store *s)
{
	return s->ops->image_fit != NULL;
}

/* Under any lock: a datapath call fits its own volume's leaf under the
 * shared lock, and no other call writes that leaf meanwhile. */
int store_image_fit(struct store *s, const char *image, uint64_t bytes)
{
	assert(s->lock != STORE_UNLOCKED);
	return s->ops->image_fit ? s->ops->image_fit(s, image, bytes) : 0;
}

int store_image_reserve(struct store *s, const char *image, uint64_t bytes)
{
	assert(s->lock != STORE_UNLOCKED);
	return s->ops->image_reserve ? s->ops->image_reserve(s, image, bytes) : 0;
}

int store_images_hold_room(struct store *s, const char *const *images, size_t n,
			   const char *holder, uint64_t first_room)
{
	return s->ops->images_hold ? s->ops->images_hold(s, images, n, holder, first_room) : 0;
}

int store_images_hold(struct store *s, const char *const *images, size_t n,
		      const char *holder)
{
	return store_images_hold_room(s, images, n, holder, 0);
}

int store_image_hold(struct store *s, const char *image, const char *holder)
{
	return store_images_hold(s, &image, 1, holder);
}

int store_holder_release(struct store *s, const char *holder)
{
	return s->ops->holder_release ? s->ops->holder_release(s, holder) : 0;
}

int store_holder_release_fit(struct store *s, const char *holder, const char *image,
			     uint64_t bytes)
{
	assert(s->lock != STORE_UNLOCKED);
	if (s->ops->holder_release_fit)
		return s->ops->holder_release_fit(s, holder, image, bytes);
	if (store_holder_release(s, holder) < 0)
		return -1;
	return bytes ? store_image_fit(s, image, bytes) : 0;
}

int store_holders_prune(struct store *s, store_holder_fn needed, void *arg)
{
	return s->ops->holders_prune ? s->ops->holders_prune(s, needed, arg) : 0;
}

int store_node_remove(struct store *s, const char *image)
{
	return store_nodes_remove(s, &image, 1);
}

int store_nodes_remove(struct store *s, const char *const *images, size_t n)
{
	store_need_exclusive(s);
	return n ? s->ops->nodes_remove(s, images, n) : 0;
}

bool store_remove_later(const struct store *s)
{
	return s->ops->remove_later;
}

int store_image_path(struct store *s, const char *image, char *buf, size_t n)
{
	return s->ops->image_path(s, image, buf, n);
}

int store_image_size(struct store *s, const char *image, uint64_t *bytes)
{
	return s->ops->image_size(s, image, bytes);
}

int store_image_list(struct store *s, store_image_fn fn, void *arg)
{
	return s->ops->image_list(s, fn, arg);
}

int store_space(struct store *s, uint64_t *free_bytes, uint64_t *total_bytes)
{
	return s->ops->space(s, free_bytes, total_bytes);
}

int store_quarantine(struct store *s, const char *image, time_t now)
{
	store_need_exclusive(s);
	return s->ops->quarantine(s, image, now);
}

int store_quarantine_list(struct store *s, store_quarantine_fn fn, void *arg)
{
	return s->ops->quarantine_list(s, fn, arg);
}

int store_quarantine_remove(struct store *s, const char *entry)
{
	store_need_exclusive(s);
	return s->ops->quarantine_remove(s, entry);
}

int store_quarantine_restore(struct store *s, const char *entry)
{
	store_need_exclusive(s);
	return s->ops->quarantine_restore(s, entry);
}
