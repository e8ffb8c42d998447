/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The LVM store's parts (lvm.c, lvm-sr.c, lvm-hold.c, lvm-quar.c). */
#ifndef LQ_STORE_LVST_INT_H
#define LQ_STORE_LVST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lq/lvm.h"
#include "lq/store.h"

struct json_object;

#define LVST_VG_PREFIX "lvqcow-"
#define LVST_VG_TAG "lvqcow-sr"
#define LVST_META "sr-meta"
#define LVST_META_NEW "sr-meta-new"
#define LVST_NODE_PREFIX "n-"
#define LVST_QUAR_PREFIX "q-"
#define LVST_HOLDER_MAX 96
/* Extents small enough that thousands of deflated parents waste little,
 * large enough that LVM's metadata stays small. */
#define LVST_EXTENT (4ULL << 20)

struct lvst {
	struct store base;            /* base.root: "/dev/<vg>" */
	char vg[LVM_NAME_MAX + 1];
	int lock_fd;
	int dev_lock_fd;              /* SR.create's device lock, -1 if none */
	/* Images this process activated for itself: released at close. */
	char (*mine)[LVM_NAME_MAX + 1];
	size_t nmine, capmine;
	/* One lvs per process for sizes: SR.ls must not run one per volume. */
	struct lvm_lv_list lvs;
	bool lvs_valid;
	/* Sizes asked for so far: the first is one LV's report (a call that
	 * needs one size must not pay for listing the whole VG), a second
	 * loads the list. */
	unsigned size_queries;
};

static inline struct lvst *lvst_of(struct store *st)
{
	return (struct lvst *)st;
}

/* Names (lvm.c). */
bool lvst_image_name_ok(const char *image);
/* store_image_fit (lvm.c). */
int lvst_image_fit(struct store *st, const char *image, uint64_t bytes);
bool lvst_entry_parse(const char *entry, char *image, size_t n, time_t *since);
void lvst_lvs_forget(struct lvst *s);
int lvst_lvs(struct lvst *s, const struct lvm_lv_list **out);
int lvst_lvs_take(struct lvst *s, struct lvm_lv_list *out);

/* Activation (lvm-hold.c). */
int lvst_path(const struct lvst *s, const char *lv, char *buf, size_t n);
bool lvst_active(const struct lvst *s, const char *lv);
int lvst_hold_mine(struct lvst *s, const char *lv);
int lvst_hold(struct lvst *s, const char *lv, const char *holder);
int lvst_release(struct lvst *s, const char *lv, const char *holder);
void lvst_release_mine(struct lvst *s);
/* Drop every holder of lv and deactivate it (before lvremove/lvrename):
 * fails if the device is still open. */
int lvst_deactivate_all(struct lvst *s, const char *lv);
/* Deactivate and remove lv; one already gone is not an error.  Leaves
 * the cached LV list alone: a caller may be walking it. */
int lvst_lv_remove(struct lvst *s, const char *lv);
int lvst_lvs_remove(struct lvst *s, const char *const *lvs, size_t n);
int lvst_holder_release(struct store *st, const char *holder);
int lvst_holder_release_fit(struct store *st, const char *holder, const char *image,
			    uint64_t bytes);
int lvst_images_hold(struct store *st, const char *const *images, size_t n,
		     const char *holder, uint64_t first_room);
int lvst_holders_prune(struct store *st, store_holder_fn needed, void *arg);

/* SR lifecycle and metadata area (lvm-sr.c). */
int lvst_sr_config(struct json_object *config, const char *uuid, char **root);
int lvst_sr_prepare(struct store *st, struct json_object *config);
bool lvst_sr_exists(struct store *st);
int lvst_sr_remove(struct store *st);
int lvst_meta_open(struct store *st, bool writable, int *fd);
int lvst_meta_build(struct store *st, int (*fill)(int fd, void *arg), void *arg);

/* Quarantine (lvm-quar.c). */
int lvst_quarantine(struct store *st, const char *image, time_t now);
int lvst_quarantine_list(struct store *st, store_quarantine_fn fn, void *arg);
int lvst_quarantine_remove(struct store *st, const char *entry);
int lvst_quarantine_restore(struct store *st, const char *entry);

#endif
