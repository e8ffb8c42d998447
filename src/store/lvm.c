/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/lvm: the LVM store of the lvqcow SR type (docs/lvm-store.md).
 *
 * One VG per SR on one PV, named lvqcow-<SR uuid> and tagged lvqcow-sr;
 * the SR string is "/dev/<vg>".  In it:
 *   sr-meta            the metadata area (lvm-sr.c)
 *   n-<node uuid>      one qcow2 image per node, the LV's name is the
 *                      image name
 *   q-<time>-<image>   an image set aside in quarantine (lvm-quar.c)
 * An image's LV has a fixed size that ops fits to what the image needs
 * (store_image_fit): its image end for a node nothing writes, its fully
 * allocated size for a leaf a guest writes.  LVs are active only while
 * someone holds them (lvm-hold.c).  Every LVM command goes through
 * src/lvm, in process; only names of the store's own form reach it, and
 * a name of another form is never touched.  The SR lock is a flock in
 * the host's run directory: it orders calls on this host. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/env.h"
#include "lq/err.h"
#include "lq/lock.h"
#include "lq/rundir.h"
#include "lq/uuid.h"
#include "lq/xerr.h"
#include "lvst-int.h"

/* ---- names ---------------------------------------------------------------- */

static bool lower_uuid_ok(const char *u)
{
	for (const char *p = u; *p; p++)
		if (isupper((unsigned char)*p))
			return false;
	return strlen(u) == UUID_STR_LEN - 1 && uuid_is_valid(u);
}

bool lvst_image_name_ok(const char *image)
{
	size_t n = strlen(LVST_NODE_PREFIX);

	return !strncmp(image, LVST_NODE_PREFIX, n) && lower_uuid_ok(image + n);
}

/* "q-<digits>-<image>" */
bool lvst_entry_parse(const char *entry, char *image, size_t n, time_t *since)
{
	const char *p = entry + strlen(LVST_QUAR_PREFIX);
	size_t digits = 0;

	if (strncmp(entry, LVST_QUAR_PREFIX, strlen(LVST_QUAR_PREFIX)))
		return false;
	while (isdigit((unsigned char)p[digits]))
		digits++;
	if (!digits || digits > 18 || p[digits] != '-' || !lvst_image_name_ok(p + digits + 1) ||
	    strlen(p + digits + 1) >= n)
		return false;
	snprintf(image, n, "%s", p + digits + 1);
	*since = (time_t)strtoll(p, NULL, 10);
	return true;
}

/* "/dev/lvqcow-<uuid>" */
static int vg_of_root(const char *root, char *vg, size_t n)
{
	const char *name = root + strlen("/dev/");

	if (strncmp(root, "/dev/", 5) || strncmp(name, LVST_VG_PREFIX, strlen(LVST_VG_PREFIX)) ||
	    !lower_uuid_ok(name + strlen(LVST_VG_PREFIX)) || strlen(name) >= n)
		return err_xapi(XERR_SR_NOT_EXIST, "'%.80s' is not an lvqcow SR (/dev/%s<uuid>)",
				root, LVST_VG_PREFIX);
	snprintf(vg, n, "%s", name);
	return 0;
}

static bool lvst_root_claimed(const char *root)
{
	char vg[LVM_NAME_MAX + 1];
	bool ok = vg_of_root(root, vg, sizeof vg) == 0;

	err_clear();
	return ok;
}

/* ---- handle --------------------------------------------------------------- */

static int lvst_open(const char *root, struct store **out)
{
	struct lvst *s = calloc(1, sizeof *s);

	if (!s)
		return err_set(ENOMEM, "out of memory");
	s->lock_fd = -1;
	s->dev_lock_fd = -1;
	if (vg_of_root(root, s->vg, sizeof s->vg) < 0 || !(s->base.root = strdup(root))) {
		int rc = s->vg[0] ? err_set(ENOMEM, "out of memory") : -1;
		free(s);
		return rc;
	}
	s->base.ops = &store_lvm_ops;
	*out = &s->base;
	return 0;
}

static void lvst_close(struct store *st)
{
	struct lvst *s = lvst_of(st);

	lvst_release_mine(s);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->dev_lock_fd >= 0)
		close(s->dev_lock_fd);
	lvst_lvs_forget(s);
	free(s->mine);
	free(st->root);
	free(s);
}

/* The lock file lives in the run directory: the device holds no
 * filesystem, and the lock orders this host's calls only. */
static int lvst_lock(struct store *st, enum store_lock mode)
{
	struct lvst *s = lvst_of(st);
	char dir[PATH_MAX], path[PATH_MAX + LVM_NAME_MAX + 8], what[LVM_NAME_MAX + 8];
	long long budget = env_integer("LVQCOW_LOCK_TIMEOUT_MS", STORE_LOCK_TIMEOUT_MS, 0, LLONG_MAX);
	int fd;

	if (rundir_path("lvm", dir, sizeof dir) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s.lock", dir, s->vg);
	fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys("open %s: %m", path);
	snprintf(what, sizeof what, "SR %s", st->root);
	if (lock_wait(fd, mode == STORE_EXCLUSIVE, budget, what) < 0) {
		close(fd);
		return -1;
	}
	s->lock_fd = fd;
	return 0;
}

static void lvst_unlock(struct store *st)
{
	struct lvst *s = lvst_of(st);

	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

/* ---- LV list, read once per process ---------------------------------------- */

void lvst_lvs_forget(struct lvst *s)
{
	lvm_lv_list_free(&s->lvs);
	s->lvs_valid = false;
}

int lvst_lvs(struct lvst *s, const struct lvm_lv_list **out)
{
	if (!s->lvs_valid) {
		if (lvm_lv_list(s->vg, &s->lvs) < 0)
			return -1;
		s->lvs_valid = true;
	}
	*out = &s->lvs;
	return 0;
}

/* The list, taken out of the cache for the caller to walk and free: a
 * callback that changes LVs forgets the cache, which must not free what
 * the walk is reading. */
int lvst_lvs_take(struct lvst *s, struct lvm_lv_list *out)
{
	const struct lvm_lv_list *l;

	if (lvst_lvs(s, &l) < 0)
		return -1;
	*out = s->lvs;
	s->lvs = (struct lvm_lv_list){ 0 };
	s->lvs_valid = false;
	return 0;
}

static const struct lvm_lv *lv_find(const struct lvm_lv_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->lv[i].name, name))
			return &l->lv[i];
	return NULL;
}

/* ---- images --------------------------------------------------------------- */

static int need_image(const char *image)
{
	if (!lvst_image_name_ok(image))
		return err_set(EINVAL, "not an image name: '%.64s'", image);
	return 0;
}

static int lvst_node_alloc(struct store *st, const char *node_uuid, uint64_t room,
			   char *image, size_t n)
{
	struct lvst *s = lvst_of(st);

	if ((size_t)snprintf(image, n, LVST_NODE_PREFIX "%s", node_uuid) >= n ||
	    need_image(image) < 0)
		return err_set(EINVAL, "bad node uuid '%.64s'", node_uuid);
	lvst_lvs_forget(s);
	return lvm_lv_create(s->vg, image, room ? room : 1, NULL);
}

/* The path of an active LV, proven a block device. */
static int lvst_image_path(struct store *st, const char *image, char *buf, size_t n)
{
	struct lvst *s = lvst_of(st);
	struct stat sb;

	if (need_image(image) < 0 || lvst_hold_mine(s, image) < 0 ||
	    lvst_path(s, image, buf, n) < 0)
		return -1;
	if (stat(buf, &sb) < 0 || !S_ISBLK(sb.st_mode))
		return err_set(EIO, "%s is not a block device", buf);
	return 0;
}

static int lvst_image_create(struct store *st, const char *image, int *fd)
{
	char path[PATH_MAX];

	if (lvst_image_path(st, image, path, sizeof path) < 0)
		return -1;
	*fd = open(path, O_RDWR | O_CLOEXEC);
	return *fd < 0 ? err_sys("open %s: %m", path) : 0;
}

static int lvst_nodes_remove(struct store *st, const char *const *images, size_t n)
{
	struct lvst *s = lvst_of(st);

	for (size_t i = 0; i < n; i++)
		if (need_image(images[i]) < 0)
			return -1;
	lvst_lvs_forget(s);
	return lvst_lvs_remove(s, images, n);
}

static int image_missing(struct store *st, const char *image)
{
	return err_set(ENOENT, "image %s/%s is missing", st->root, image);
}

static int image_size_one(struct store *st, const char *image, uint64_t *bytes)
{
	struct lvm_lv lv;

	if (lvm_lv_get(lvst_of(st)->vg, image, &lv) < 0)
		return lvm_last_class() == LVM_NOT_FOUND ? image_missing(st, image) : -1;
	*bytes = lv.size;
	return 0;
}

static int lvst_image_size(struct store *st, const char *image, uint64_t *bytes)
{
	struct lvst *s = lvst_of(st);
	const struct lvm_lv_list *l;
	const struct lvm_lv *lv;

	if (need_image(image) < 0)
		return -1;
	if (!s->lvs_valid && s->size_queries++ == 0)
		return image_size_one(st, image, bytes);
	if (lvst_lvs(s, &l) < 0)
		return -1;
	if (!(lv = lv_find(l, image)))
		return image_missing(st, image);
	*bytes = lv->size;
	return 0;
}

/* An active LV's size comes from its device, saving a report (attach
 * inflates, and detach deflates, a leaf its server holds active).  The
 * extent size is the one SR.create gave the VG: should an administrator
 * have changed it, a grow is still exact, and a shrink at worst runs a
 * command LVM refuses, or keeps part of an extent. */
int lvst_image_fit(struct store *st, const char *image, uint64_t bytes)
{
	struct lvst *s = lvst_of(st);
	uint64_t cur;

	if (need_image(image) < 0)
		return -1;
	lvst_lvs_forget(s);
	if (lvm_lv_active_size(s->vg, image, &cur) == 0)
		return lvm_lv_resize_known(s->vg, image, bytes, cur, LVST_EXTENT);
	err_clear();   /* not active: the report gives the size */
	return lvm_lv_resize(s->vg, image, bytes);
}

/* Grow only: the active LV's size from its device; an inactive one is
 * extended by LVM, which leaves one already as big. */
static int lvst_image_reserve(struct store *st, const char *image, uint64_t bytes)
{
	struct lvst *s = lvst_of(st);
	uint64_t cur;

	if (need_image(image) < 0)
		return -1;
	lvst_lvs_forget(s);
	if (lvm_lv_active_size(s->vg, image, &cur) < 0) {
		err_clear();
		return lvm_lv_extend(s->vg, image, bytes);
	}
	return cur >= bytes ? 0 : lvm_lv_resize_known(s->vg, image, bytes, cur, LVST_EXTENT);
}

/* Every LV but the store's own bookkeeping ones (metadata, quarantine). */
static int lvst_image_list(struct store *st, store_image_fn fn, void *arg)
{
	struct lvm_lv_list l;
	int rc = 0;

	if (lvst_lvs_take(lvst_of(st), &l) < 0)
		return -1;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		const char *name = l.lv[i].name;
		if (!strcmp(name, LVST_META) || !strcmp(name, LVST_META_NEW) ||
		    !strncmp(name, LVST_QUAR_PREFIX, strlen(LVST_QUAR_PREFIX)))
			continue;
		rc = fn(name, arg);
	}
	lvm_lv_list_free(&l);
	return rc;
}

static int lvst_space(struct store *st, uint64_t *free_bytes, uint64_t *total_bytes)
{
	struct lvm_vg vg;

	if (lvm_vg_get(lvst_of(st)->vg, &vg) < 0)
		return -1;
	*free_bytes = vg.free;
	*total_bytes = vg.size;
	return 0;
}

const struct store_ops store_lvm_ops = {
	.type = "lvqcow",
	.root_claimed = lvst_root_claimed,
	.sr_config = lvst_sr_config,
	.open = lvst_open,
	.close = lvst_close,
	.sr_prepare = lvst_sr_prepare,
	.sr_exists = lvst_sr_exists,
	.sr_remove = lvst_sr_remove,
	.lock = lvst_lock,
	.unlock = lvst_unlock,
	.meta_open = lvst_meta_open,
	.meta_build = lvst_meta_build,
	.image_name_ok = lvst_image_name_ok,
	.node_alloc = lvst_node_alloc,
	.nodes_remove = lvst_nodes_remove,
	.remove_later = true,
	.image_create = lvst_image_create,
	.image_fit = lvst_image_fit,
	.image_reserve = lvst_image_reserve,
	.images_hold = lvst_images_hold,
	.holder_release = lvst_holder_release,
	.holder_release_fit = lvst_holder_release_fit,
	.holders_prune = lvst_holders_prune,
	.image_path = lvst_image_path,
	.image_size = lvst_image_size,
	.image_list = lvst_image_list,
	.space = lvst_space,
	.quarantine = lvst_quarantine,
	.quarantine_list = lvst_quarantine_list,
	.quarantine_remove = lvst_quarantine_remove,
	.quarantine_restore = lvst_quarantine_restore,
};
