/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/lvm-quar: quarantine in an LVM SR.  An image set aside is the
 * same LV renamed q-<unix time>-<image>: nothing is copied, and the LV
 * keeps its data until a later sweep removes it.  Only LVs of exactly
 * that form are listed, removed or restored. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lq/err.h"
#include "lvst-int.h"

static int entry_check(const char *entry, char *image, size_t n)
{
	time_t since;

	if (!lvst_entry_parse(entry, image, n, &since))
		return err_set(EINVAL, "not a quarantine entry: '%.80s'", entry);
	return 0;
}

int lvst_quarantine(struct store *st, const char *image, time_t now)
{
	struct lvst *s = lvst_of(st);
	char entry[LVM_NAME_MAX + 1];

	if (!lvst_image_name_ok(image))
		return err_set(EINVAL, "not an image name: '%.64s'", image);
	snprintf(entry, sizeof entry, LVST_QUAR_PREFIX "%lld-%s", (long long)now, image);
	lvst_lvs_forget(s);
	if (lvst_deactivate_all(s, image) < 0)
		return -1;
	return lvm_lv_rename(s->vg, image, entry);
}

int lvst_quarantine_list(struct store *st, store_quarantine_fn fn, void *arg)
{
	struct lvm_lv_list l;
	char image[LVM_NAME_MAX + 1];
	int rc = 0;

	/* The callback may restore or remove entries: walk a list of our own. */
	if (lvst_lvs_take(lvst_of(st), &l) < 0)
		return -1;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct store_quarantined q = { .entry = l.lv[i].name, .image = image };
		if (lvst_entry_parse(q.entry, image, sizeof image, &q.since))
			rc = fn(&q, arg);
	}
	lvm_lv_list_free(&l);
	return rc;
}

int lvst_quarantine_remove(struct store *st, const char *entry)
{
	struct lvst *s = lvst_of(st);
	char image[LVM_NAME_MAX + 1];

	if (entry_check(entry, image, sizeof image) < 0)
		return -1;
	lvst_lvs_forget(s);
	return lvst_lv_remove(s, entry);
}

int lvst_quarantine_restore(struct store *st, const char *entry)
{
	struct lvst *s = lvst_of(st);
	char image[LVM_NAME_MAX + 1];

	if (entry_check(entry, image, sizeof image) < 0)
		return -1;
	lvst_lvs_forget(s);
	return lvm_lv_rename(s->vg, entry, image);
}
