/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/lvm-sr: an LVM SR's life (device-config, create on a device,
 * remove) and its metadata area, the LV sr-meta.
 *
 * SR.create refuses a device it cannot prove unused: one that is open
 * exclusively elsewhere (mounted, or held by another VG's active LVs), a
 * PV of another VG, or one holding any signature (pvcreate refuses it;
 * nothing is ever wiped).  A PV of this SR's own VG, or a PV in no VG
 * (what a create killed between pvcreate and vgcreate leaves), is taken
 * over, so a killed SR.create can simply be run again.
 *
 * The metadata area is built as sr-meta-new, written and synced, then
 * renamed to sr-meta: the SR exists exactly when sr-meta does.  The area
 * stays active under the lasting holder "sr" from the first call that
 * opens it until SR.detach releases that holder. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lq/env.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/lock.h"
#include "lq/log.h"
#include "lq/rundir.h"
#include "lq/meta.h"
#include "lq/uuid.h"
#include "lq/xerr.h"
#include "lvst-int.h"

#define SR_HOLDER STORE_SR_HOLDER

/* ---- device-config -------------------------------------------------------- */

static int config_device(struct json_object *config, const char **dev)
{
	struct json_object *d;
	struct stat sb;

	if (!json_object_object_get_ex(config, "device", &d) || !json_object_is_type(d, json_type_string))
		return err_xapi(XERR_INVALID, "device-config needs 'device', a block device path");
	*dev = json_object_get_string(d);
	if (!lvm_dev_path_ok(*dev))
		return err_xapi(XERR_INVALID, "device '%.200s' is not a plain /dev path", *dev);
	if (stat(*dev, &sb) < 0)
		return err_xapi(XERR_INVALID, "device '%s': %m", *dev);
	if (!S_ISBLK(sb.st_mode))
		return err_xapi(XERR_INVALID, "device '%s' is not a block device", *dev);
	return 0;
}

static int root_of_uuid(const char *uuid, char **root)
{
	char lower[UUID_STR_LEN];

	if (!uuid_is_valid(uuid) || strlen(uuid) != UUID_STR_LEN - 1)
		return err_xapi(XERR_INVALID, "SR uuid '%.64s' is not a uuid", uuid);
	for (size_t i = 0; i < sizeof lower; i++)
		lower[i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'F' ? uuid[i] + 32 : uuid[i]);
	if (asprintf(root, "/dev/" LVST_VG_PREFIX "%s", lower) < 0)
		return err_set(ENOMEM, "out of memory");
	return 0;
}

/* The SR on dev, from its PV's VG. */
static int root_of_device(const char *dev, char **root)
{
	struct lvm_pv pv;
	size_t n = strlen(LVST_VG_PREFIX);

	if (lvm_pv_get(dev, &pv) < 0) {
		if (lvm_last_class() == LVM_NOT_FOUND)
			return err_xapi(XERR_SR_NOT_EXIST, "device %s holds no lvqcow SR "
					"(it is no LVM physical volume)", dev);
		return -1;
	}
	if (strncmp(pv.vg, LVST_VG_PREFIX, n))
		return err_xapi(XERR_SR_NOT_EXIST, "device %s holds no lvqcow SR (its VG is '%s')",
				dev, pv.vg);
	return root_of_uuid(pv.vg + n, root);
}

int lvst_sr_config(struct json_object *config, const char *uuid, char **root)
{
	struct json_object *u;
	const char *dev;

	if (config_device(config, &dev) < 0)
		return -1;
	if (uuid)
		return root_of_uuid(uuid, root);
	if (root_of_device(dev, root) < 0)
		return -1;
	if (json_object_object_get_ex(config, "sr_uuid", &u)) {
		char *want = NULL;
		int rc = root_of_uuid(json_object_get_string(u), &want);
		if (rc == 0 && strcmp(want, *root))
			rc = err_xapi(XERR_SR_NOT_EXIST, "device %s holds %s, not SR %s", dev,
				      *root, json_object_get_string(u));
		free(want);
		if (rc < 0) {
			free(*root);
			*root = NULL;
			return -1;
		}
	}
	return 0;
}

/* ---- create ------------------------------------------------------------- */

static int check_removable(struct lvst *s, const struct lvm_lv_list *l);

/* O_EXCL on a block device fails while it is mounted or held open
 * exclusively (by device-mapper, md, another pvcreate). */
static int device_unused(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0)
		return errno == EBUSY ? err_xapi(XERR_INVALID, "device %s is in use (mounted, or "
						 "held by another device)", dev)
				      : err_xapi(XERR_INVALID, "device %s: %m", dev);
	close(fd);
	return 0;
}

/* pvcreate's refusal names what it found ("Aborted wiping of ext4");
 * the administrator also needs to know that nothing was touched. */
static int make_pv(const char *dev)
{
	char why[1100];

	if (lvm_pv_create(dev, LVM_MDA_DEFAULT) == 0)
		return 0;
	if (lvm_last_class() != LVM_DEVICE)
		return -1;
	snprintf(why, sizeof why, "%s", err_last()->msg);
	return err_xapi(XERR_LVM_DEVICE, "device %s holds data (a filesystem, a partition table "
			"or another signature): refused, nothing changed (%s)", dev, why);
}

static int make_pv_and_vg(struct lvst *s, const char *dev, bool have_pv)
{
	if (!have_pv && (device_unused(dev) < 0 || make_pv(dev) < 0))
		return -1;
	fault_point("sr-create.pv-created");
	return lvm_vg_create(s->vg, dev, LVST_EXTENT, LVST_VG_TAG);
}

/* Concurrent SR.creates on one device (with different SR uuids, so
 * different SR locks) must not see each other's half-made VG as
 * leftovers: the checks and changes run under a lock of the device,
 * held until the store closes. */
static int device_lock(struct lvst *s, const char *dev)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	long long budget = env_integer("LVQCOW_LOCK_TIMEOUT_MS", STORE_LOCK_TIMEOUT_MS, 0, LLONG_MAX);
	struct stat sb;
	int fd;

	if (stat(dev, &sb) < 0)
		return err_sys("stat %s: %m", dev);
	if (rundir_path("lvm", dir, sizeof dir) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/dev-%u-%u.lock", dir, major(sb.st_rdev), minor(sb.st_rdev));
	if ((fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return err_sys("open %s: %m", path);
	if (lock_wait(fd, true, budget, dev) < 0) {
		close(fd);
		return -1;
	}
	s->dev_lock_fd = fd;
	return 0;
}

static bool has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);

	for (const char *p = tags; (p = strstr(p, tag)); p += n)
		if ((p == tags || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static int remove_leftovers(struct lvst *old, const char *dev)
{
	struct lvm_lv_list l;
	int rc = -1;

	if (lvm_lv_list(old->vg, &l) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.lv[i].name, LVST_META)) {
			lvm_lv_list_free(&l);
			return err_xapi(XERR_INVALID, "device %s holds lvqcow SR %s: refused, "
					"nothing changed", dev, old->base.root);
		}
	if (check_removable(old, &l) == 0) {
		rc = 0;
		for (size_t i = 0; i < l.n && rc == 0; i++)
			rc = lvst_lv_remove(old, l.lv[i].name);
	}
	lvm_lv_list_free(&l);
	return rc < 0 ? -1 : lvm_vg_remove(old->vg);
}

/* A VG of this plugin's own (its name and tag) that holds no metadata
 * area is what an SR.destroy killed after its commit point left: its
 * SR is gone, so what remains is garbage, removed here.  Anything else
 * is refused. */
static int take_over(const char *dev, const char *vg)
{
	struct lvm_vg info;
	struct store *old = NULL;
	char root[LVM_NAME_MAX + 8];
	int rc;

	snprintf(root, sizeof root, "/dev/%s", vg);
	if (lvm_vg_get(vg, &info) < 0)
		return -1;
	if (!has_tag(info.tags, LVST_VG_TAG) || store_open("lvqcow", root, &old) < 0) {
		err_clear();
		return err_xapi(XERR_INVALID, "device %s belongs to volume group %s: refused, "
				"nothing changed", dev, vg);
	}
	rc = remove_leftovers(lvst_of(old), dev);
	store_close(old);
	if (rc == 0)
		log_info("device %s: removed what a destroyed SR left (VG %s)", dev, vg);
	return rc;
}

int lvst_sr_prepare(struct store *st, struct json_object *config)
{
	struct lvst *s = lvst_of(st);
	const char *dev;
	struct lvm_pv pv;

	if (config_device(config, &dev) < 0 || device_lock(s, dev) < 0)
		return -1;
	if (lvm_pv_get(dev, &pv) < 0) {
		if (lvm_last_class() != LVM_NOT_FOUND)
			return -1;
		err_clear();
		return make_pv_and_vg(s, dev, false);
	}
	if (!strcmp(pv.vg, s->vg)) {
		if (lvst_sr_exists(st))
			return err_xapi(XERR_INVALID, "device %s already holds SR %s", dev, st->root);
		return 0;   /* a killed SR.create: go on where it stopped */
	}
	if (pv.vg[0] && take_over(dev, pv.vg) < 0)
		return -1;
	return make_pv_and_vg(s, dev, true);
}

bool lvst_sr_exists(struct store *st)
{
	struct lvm_lv lv;
	bool yes = lvm_lv_get(lvst_of(st)->vg, LVST_META, &lv) == 0;

	err_clear();
	return yes;
}

/* ---- metadata area ------------------------------------------------------ */

int lvst_meta_open(struct store *st, bool writable, int *fd)
{
	struct lvst *s = lvst_of(st);
	char path[256];
	struct stat sb;

	if (lvst_hold(s, LVST_META, SR_HOLDER) < 0) {
		if (lvm_last_class() == LVM_NOT_FOUND)
			return err_xapi(XERR_SR_NOT_EXIST, "%s holds no SR metadata", st->root);
		return -1;
	}
	if (lvst_path(s, LVST_META, path, sizeof path) < 0)
		return -1;
	*fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (*fd < 0)
		return err_sys("open %s: %m", path);
	if (fstat(*fd, &sb) < 0 || !S_ISBLK(sb.st_mode)) {
		close(*fd);
		*fd = -1;
		return err_corrupt("%s is not a block device", path);
	}
	return 0;
}

static int fill_new(struct lvst *s, int (*fill)(int fd, void *arg), void *arg)
{
	char path[256];
	int fd, rc;

	if (lvst_hold(s, LVST_META_NEW, SR_HOLDER) < 0 ||
	    lvst_path(s, LVST_META_NEW, path, sizeof path) < 0)
		return -1;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return err_sys("open %s: %m", path);
	rc = fill(fd, arg);
	if (rc == 0 && fsync(fd) < 0)
		rc = err_sys("fsync %s: %m", path);
	close(fd);
	return rc;
}

int lvst_meta_build(struct store *st, int (*fill)(int fd, void *arg), void *arg)
{
	struct lvst *s = lvst_of(st);

	lvst_lvs_forget(s);
	if (lvst_lv_remove(s, LVST_META_NEW) < 0 ||
	    lvm_lv_create(s->vg, LVST_META_NEW, META_AREA_BYTES, NULL) < 0 ||
	    fill_new(s, fill, arg) < 0 || lvst_deactivate_all(s, LVST_META_NEW) < 0 ||
	    lvm_lv_rename(s->vg, LVST_META_NEW, LVST_META) < 0)
		return -1;
	fault_point("sr-create.area-renamed");
	return 0;
}

/* ---- remove --------------------------------------------------------------- */

static bool own_lv(const char *name)
{
	char image[LVM_NAME_MAX + 1];
	time_t since;

	return !strcmp(name, LVST_META) || !strcmp(name, LVST_META_NEW) ||
	       lvst_image_name_ok(name) || lvst_entry_parse(name, image, sizeof image, &since);
}

static int check_removable(struct lvst *s, const struct lvm_lv_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!own_lv(l->lv[i].name))
			return err_xapi(XERR_INVALID, "SR %s: VG %s holds LV %s, which is not the "
					"SR's: refused, nothing changed", s->base.root, s->vg,
					l->lv[i].name);
	return 0;
}

static int remove_rest(struct lvst *s, struct lvm_lv_list *l)
{
	struct lvm_pv pv;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->lv[i].name, LVST_META) && lvst_lv_remove(s, l->lv[i].name) < 0)
			return -1;
	if (lvm_pv_of_vg(s->vg, &pv) < 0 || lvm_vg_remove(s->vg) < 0)
		return -1;
	return lvm_pv_remove(pv.name);
}

int lvst_sr_remove(struct store *st)
{
	struct lvst *s = lvst_of(st);
	struct lvm_lv_list l;
	int rc = -1;

	lvst_lvs_forget(s);
	if (lvm_lv_list(s->vg, &l) < 0)
		return -1;
	if (check_removable(s, &l) == 0 && lvst_lv_remove(s, LVST_META) == 0) {
		fault_point("sr-destroy.document-removed");
		rc = remove_rest(s, &l);
	}
	lvm_lv_list_free(&l);
	return rc;
}
