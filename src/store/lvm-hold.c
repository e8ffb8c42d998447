/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/lvm-hold: which LVs are active on this host, and who needs them.
 *
 * An LV is activated for its first holder and deactivated when its last
 * holder lets go.  Holders are files in the host's run directory
 * (<rundir>/lvm/<vg>/<lv>/<holder>), so they live exactly as long as
 * activations do (a reboot clears both), and every process on the host
 * sees them.  Two kinds:
 *   c-<pid>-<start time>   a call using the LV for itself; released at
 *                          store_close, and recognised as dead when that
 *                          process is gone (the start time defeats a
 *                          reused pid) if the call was killed;
 *   p-<pid>-<start time>   the same for the process's whole life (the
 *                          collector across its unlocked copy);
 *   anything else          a lasting holder named by ops ("dp-<volume>"
 *                          for a volume's NBD server, "sr" for the
 *                          metadata area while the SR is attached); a
 *                          prune asks ops whether it is still needed.
 * Changes are serialised per VG by a short flock, with a bounded wait,
 * so a release never deactivates an LV that a concurrent hold has just
 * counted on.  A deactivation LVM refuses (the device is still open) is
 * logged and the LV stays active: the holders said it was free, the
 * kernel knows better. */
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/lock.h"
#include "lq/log.h"
#include "lq/proc.h"
#include "lq/rundir.h"
#include "lvst-int.h"

#define HOLD_LOCK_MS 60000
#define HOLD_PATH_MAX 512

int lvst_path(const struct lvst *s, const char *lv, char *buf, size_t n)
{
	return lvm_lv_path(s->vg, lv, buf, n);
}

bool lvst_active(const struct lvst *s, const char *lv)
{
	char path[HOLD_PATH_MAX];
	struct stat st;

	return lvst_path(s, lv, path, sizeof path) == 0 && stat(path, &st) == 0 &&
	       S_ISBLK(st.st_mode);
}

static bool holder_ok(const char *h)
{
	size_t n = strlen(h);

	if (!n || n > LVST_HOLDER_MAX || h[0] == '.')
		return false;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

/* kind 'c': for the handle's life; 'p': for the process's. */
static void my_holder(char kind, char *buf, size_t n)
{
	unsigned long long start = 0;

	proc_start_time(getpid(), &start);
	snprintf(buf, n, "%c-%d-%llu", kind, (int)getpid(), start);
}

static bool process_holder(const char *h, int *pid, unsigned long long *start)
{
	char kind;

	return sscanf(h, "%c-%d-%llu", &kind, pid, start) == 3 && (kind == 'c' || kind == 'p') &&
	       *pid > 0;
}

/* Who judges the lasting holders during a prune (needed NULL: nobody,
 * they all stay). */
struct judge {
	store_holder_fn needed;
	void *arg;
};

/* A process holder whose process is gone (or is another process now),
 * or a lasting one j finds not needed. */
static bool holder_gone(const char *h, const struct judge *j)
{
	unsigned long long start, now;
	int pid;

	if (process_holder(h, &pid, &start))
		return proc_start_time(pid, &now) < 0 || now != start;
	return j && j->needed && !j->needed(h, j->arg);
}

static int vg_dir(const struct lvst *s, char *buf, size_t n)
{
	char sub[LVM_NAME_MAX + 8];

	snprintf(sub, sizeof sub, "lvm/%s", s->vg);
	return rundir_path(sub, buf, n);
}

/* The per-VG flock around every change of holders and activation. */
static int hold_lock(const struct lvst *s)
{
	char dir[HOLD_PATH_MAX], path[HOLD_PATH_MAX + 8], what[LVM_NAME_MAX + 32];
	int fd;

	if (vg_dir(s, dir, sizeof dir) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys("open %s: %m", path);
	snprintf(what, sizeof what, "activation of VG %s", s->vg);
	if (lock_wait(fd, true, HOLD_LOCK_MS, what) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int lv_dir(const struct lvst *s, const char *lv, char *buf, size_t n)
{
	char dir[HOLD_PATH_MAX];

	if (vg_dir(s, dir, sizeof dir) < 0)
		return -1;
	if ((size_t)snprintf(buf, n, "%s/%s", dir, lv) >= n)
		return err_set(ENAMETOOLONG, "holder directory of %s/%s too long", s->vg, lv);
	return 0;
}

static int holder_add(const struct lvst *s, const char *lv, const char *holder)
{
	char dir[HOLD_PATH_MAX], path[HOLD_PATH_MAX + LVST_HOLDER_MAX + 2];
	int fd;

	if (lv_dir(s, lv, dir, sizeof dir) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_sys("mkdir %s: %m", dir);
	snprintf(path, sizeof path, "%s/%s", dir, holder);
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys("create %s: %m", path);
	close(fd);
	return 0;
}

/* Remove holder (NULL: every holder), the dead call holders of lv and
 * the lasting holders j finds not needed; *left tells whether a holder
 * remains. */
static int holders_prune(const struct lvst *s, const char *lv, const char *holder,
			 const struct judge *j, bool *left)
{
	char dir[HOLD_PATH_MAX];
	CLEANUP_CLOSEDIR DIR *d = NULL;
	struct dirent *e;

	*left = false;
	if (lv_dir(s, lv, dir, sizeof dir) < 0)
		return -1;
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : err_sys("opendir %s: %m", dir);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!holder || !strcmp(e->d_name, holder) || holder_gone(e->d_name, j)) {
			if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
				return err_sys("unlink %s/%s: %m", dir, e->d_name);
		} else {
			*left = true;
		}
	}
	if (!*left)
		rmdir(dir);
	return 0;
}

/* Growing an LV before its activation is a metadata change only;
 * growing it once active reloads its device.  A hint (store.h): the
 * caller reserves the room again once the LV is active. */
static void grow_inactive(struct lvst *s, const char *lv, uint64_t room)
{
	lvst_lvs_forget(s);
	if (fault_error("store-hold.leaf-grow") < 0 || lvm_lv_extend(s->vg, lv, room) < 0) {
		log_info("VG %s: %s not grown ahead of its activation: %s", s->vg, lv,
			 err_last()->msg);
		err_clear();
	}
}

/* Under the hold lock: holder added to each of lvs, then lvs[0] grown
 * to room if it is inactive (room 0: not), then the inactive ones
 * activated in one command.  Those left inactive by a failure lose the
 * holder again; the rest keep it, as after a hold that succeeded. */
static int activate_locked(struct lvst *s, const char *const *lvs, size_t n,
			   const char *holder, uint64_t room)
{
	const char *off[LVM_BATCH_MAX];
	size_t k = 0, added = 0;
	int rc = 0;
	bool left;

	assert(n <= LVM_BATCH_MAX);
	for (; added < n && rc == 0; added++) {
		rc = holder_add(s, lvs[added], holder);
		if (rc == 0 && !lvst_active(s, lvs[added]))
			off[k++] = lvs[added];
	}
	if (rc == 0 && room && k && off[0] == lvs[0]) {
		grow_inactive(s, lvs[0], room);
		fault_point("store-hold.leaf-grown");
	}
	if (rc == 0 && k)
		rc = lvm_lvs_activate(s->vg, off, k);
	if (rc == 0)
		return 0;
	struct err_record saved = *err_last();
	for (size_t i = 0; i < added; i++)
		if (!lvst_active(s, lvs[i]))
			holders_prune(s, lvs[i], holder, NULL, &left);
	err_restore(&saved);
	return -1;
}

static int hold_many(struct lvst *s, const char *const *lvs, size_t n, const char *holder,
		     uint64_t room)
{
	int lock, rc = 0;

	if (!holder_ok(holder))
		return err_set(EINVAL, "invalid holder name '%.64s'", holder);
	if ((lock = hold_lock(s)) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i += LVM_BATCH_MAX)
		rc = activate_locked(s, lvs + i, n - i < LVM_BATCH_MAX ? n - i : LVM_BATCH_MAX,
				     holder, i ? 0 : room);
	close(lock);
	return rc;
}

int lvst_hold(struct lvst *s, const char *lv, const char *holder)
{
	return hold_many(s, &lv, 1, holder, 0);
}

/* The LVs a release left without a holder, deactivated together while
 * the hold lock is still held: one LVM command lets go of a whole chain. */
struct hold_batch {
	char lv[LVM_BATCH_MAX][LVM_NAME_MAX + 1];
	size_t n;
};

static void batch_flush(struct lvst *s, struct hold_batch *b)
{
	const char *lvs[LVM_BATCH_MAX];

	for (size_t i = 0; i < b->n; i++)
		lvs[i] = b->lv[i];
	if (b->n && lvm_lvs_deactivate(s->vg, lvs, b->n) < 0) {
		for (size_t i = 0; i < b->n; i++)
			if (lvst_active(s, b->lv[i]))
				log_warn("VG %s: %s stays active: %s", s->vg, b->lv[i], err_last()->msg);
		err_clear();
	}
	b->n = 0;
}

/* Under the hold lock. */
static int release_locked(struct lvst *s, const char *lv, const char *holder,
			  const struct judge *j, struct hold_batch *b)
{
	bool left;
	int rc = holders_prune(s, lv, holder, j, &left);

	if (rc < 0 || left || !lvst_active(s, lv))
		return rc;
	if (b->n == LVM_BATCH_MAX)
		batch_flush(s, b);
	snprintf(b->lv[b->n++], sizeof b->lv[0], "%s", lv);
	return 0;
}

int lvst_release(struct lvst *s, const char *lv, const char *holder)
{
	struct hold_batch b = { .n = 0 };
	int lock, rc;

	if ((lock = hold_lock(s)) < 0)
		return -1;
	rc = release_locked(s, lv, holder, NULL, &b);
	batch_flush(s, &b);
	close(lock);
	return rc;
}

int lvst_deactivate_all(struct lvst *s, const char *lv)
{
	int lock, rc;
	bool left;

	if ((lock = hold_lock(s)) < 0)
		return -1;
	rc = holders_prune(s, lv, NULL, NULL, &left);
	if (rc == 0 && lvst_active(s, lv))
		rc = lvm_lv_deactivate(s->vg, lv);
	close(lock);
	return rc;
}

int lvst_lv_remove(struct lvst *s, const char *lv)
{
	return lvst_lvs_remove(s, &lv, 1);
}

/* One LV: gone already is as good as removed. */
static int remove_one(struct lvst *s, const char *lv)
{
	if (lvm_lvs_remove_unused(s->vg, &lv, 1) == 0 || lvm_last_class() == LVM_NOT_FOUND)
		return 0;
	return -1;
}

/* One lvremove for lvs.  A failure of several tells nothing per LV:
 * the others need not be removed when LVM refuses one (in the guest, an
 * open LV kept its batch), and the messages of one LV not found and
 * another in use make one error, classed not found.  So a failed batch
 * is tried again one LV at a time: an open LV keeps only itself, and
 * one already gone is told apart. */
static int remove_batch(struct lvst *s, const char *const *lvs, size_t n)
{
	struct err_first first = { 0 };

	if (n == 1)
		return remove_one(s, lvs[0]);
	if (lvm_lvs_remove_unused(s->vg, lvs, n) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (remove_one(s, lvs[i]) < 0)
			err_first_note(&first);
	return err_first_end(&first);
}

static int holders_drop(const struct lvst *s, const char *const *lvs, size_t n)
{
	bool left;

	for (size_t i = 0; i < n; i++)
		if (holders_prune(s, lvs[i], NULL, NULL, &left) < 0)
			return -1;
	return 0;
}

/* One lvremove per LVM_BATCH_MAX LVs, under the hold lock so that no
 * hold activates one of them for itself meanwhile.  Their holders go
 * first; an LV still active (a killed holder's, or activated behind the
 * plugin's back, as by a vgchange -ay) is deactivated by the lvremove
 * itself unless it is open.  An LV already gone is not an error
 * (removal is finished again after a crash). */
int lvst_lvs_remove(struct lvst *s, const char *const *lvs, size_t n)
{
	struct err_first first = { 0 };
	int lock;

	if ((lock = hold_lock(s)) < 0)
		return -1;
	if (holders_drop(s, lvs, n) < 0) {
		close(lock);
		return -1;
	}
	for (size_t i = 0; i < n; i += LVM_BATCH_MAX)
		if (remove_batch(s, lvs + i, n - i < LVM_BATCH_MAX ? n - i : LVM_BATCH_MAX) < 0)
			err_first_note(&first);
	close(lock);
	return err_first_end(&first);
}

static bool is_mine(const struct lvst *s, const char *lv)
{
	for (size_t i = 0; i < s->nmine; i++)
		if (!strcmp(s->mine[i], lv))
			return true;
	return false;
}

static int remember_mine(struct lvst *s, const char *lv)
{
	if (s->nmine == s->capmine) {
		size_t cap = s->capmine ? 2 * s->capmine : 8;
		void *p = realloc(s->mine, cap * sizeof *s->mine);
		if (!p)
			return err_set(ENOMEM, "out of memory");
		s->mine = p;
		s->capmine = cap;
	}
	snprintf(s->mine[s->nmine++], sizeof s->mine[0], "%s", lv);
	return 0;
}

int lvst_hold_mine(struct lvst *s, const char *lv)
{
	char me[64];

	if (is_mine(s, lv))
		return 0;
	my_holder('c', me, sizeof me);
	if (remember_mine(s, lv) < 0)
		return -1;
	if (lvst_hold(s, lv, me) < 0) {
		s->nmine--;
		return -1;
	}
	return 0;
}

void lvst_release_mine(struct lvst *s)
{
	struct hold_batch b = { .n = 0 };
	char me[64];
	int lock;

	if (!s->nmine)
		return;
	my_holder('c', me, sizeof me);
	if ((lock = hold_lock(s)) < 0) {
		log_warn("VG %s: %s", s->vg, err_last()->msg);
		err_clear();
		s->nmine = 0;   /* the holders stay, pruned once this process is gone */
		return;
	}
	for (size_t i = 0; i < s->nmine; i++)
		if (release_locked(s, s->mine[i], me, NULL, &b) < 0) {
			log_warn("VG %s: %s", s->vg, err_last()->msg);
			err_clear();
		}
	batch_flush(s, &b);
	close(lock);
	s->nmine = 0;
}

int lvst_images_hold(struct store *st, const char *const *images, size_t n,
		     const char *holder, uint64_t first_room)
{
	char me[64];

	for (size_t i = 0; i < n; i++)
		if (!lvst_image_name_ok(images[i]))
			return err_set(EINVAL, "not an image name: '%.64s'", images[i]);
	if (!holder)
		my_holder('p', me, sizeof me);
	return hold_many(lvst_of(st), images, n, holder ? holder : me, first_room);
}

static void forget_mine(struct lvst *s, const char *lv)
{
	for (size_t i = 0; i < s->nmine; i++)
		if (!strcmp(s->mine[i], lv)) {
			memmove(s->mine[i], s->mine[s->nmine - 1], sizeof s->mine[0]);
			s->nmine--;
			return;
		}
}

/* Under the hold lock: this process's own hold on lv, if it has one. */
static int release_mine_one(struct lvst *s, const char *lv, struct hold_batch *b)
{
	char me[64];

	if (!lv || !is_mine(s, lv))
		return 0;
	my_holder('c', me, sizeof me);
	forget_mine(s, lv);
	return release_locked(s, lv, me, NULL, b);
}

/* Release holder from every LV that has it, and this process's own hold
 * on own_lv (NULL: none) in the same deactivation; an empty holder (no
 * file has that name) releases only the holders that are gone (j). */
static int release_everywhere(struct lvst *s, const char *holder, const struct judge *j,
			      const char *own_lv)
{
	char dir[HOLD_PATH_MAX], path[HOLD_PATH_MAX * 2];
	CLEANUP_CLOSEDIR DIR *d = NULL;
	struct hold_batch b = { .n = 0 };
	struct dirent *e;
	struct stat sb;
	int lock, rc = 0;

	if (vg_dir(s, dir, sizeof dir) < 0)
		return -1;
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : err_sys("opendir %s: %m", dir);
	if ((lock = hold_lock(s)) < 0)
		return -1;
	while ((e = readdir(d)) && rc == 0) {
		if (e->d_name[0] == '.' || !lvm_lv_name_ok(s->vg, e->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s/%s", dir, e->d_name, holder);
		if (!*holder || lstat(path, &sb) == 0)
			rc = release_locked(s, e->d_name, holder, j, &b);
	}
	if (rc == 0)
		rc = release_mine_one(s, own_lv, &b);
	batch_flush(s, &b);
	close(lock);
	return rc;
}

int lvst_holder_release(struct store *st, const char *holder)
{
	char me[64];

	if (!holder) {
		my_holder('p', me, sizeof me);
		holder = me;
	}
	if (!holder_ok(holder))
		return err_set(EINVAL, "invalid holder name '%.64s'", holder);
	return release_everywhere(lvst_of(st), holder, NULL, NULL);
}

/* The size is read while the LV is still active, so the fit after the
 * deactivation needs no report. */
int lvst_holder_release_fit(struct store *st, const char *holder, const char *image,
			    uint64_t bytes)
{
	struct lvst *s = lvst_of(st);
	uint64_t cur;
	bool known;

	if (!holder_ok(holder) || !lvst_image_name_ok(image))
		return err_set(EINVAL, "invalid holder '%.64s' or image '%.64s'", holder, image);
	known = lvm_lv_active_size(s->vg, image, &cur) == 0;
	err_clear();
	if (release_everywhere(s, holder, NULL, image) < 0)
		return -1;
	if (!bytes)
		return 0;
	lvst_lvs_forget(s);
	if (known)
		return lvm_lv_resize_known(s->vg, image, bytes, cur, LVST_EXTENT);
	return lvst_image_fit(st, image, bytes);
}

int lvst_holders_prune(struct store *st, store_holder_fn needed, void *arg)
{
	struct judge j = { needed, arg };

	return release_everywhere(lvst_of(st), "", &j, NULL);
}
