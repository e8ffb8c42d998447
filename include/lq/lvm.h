/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm: the only code that runs LVM commands (liblvm2cmd, in process).
 *
 * It owns: the one liblvm2cmd handle of the process (loaded with dlopen
 * and initialised on first use, never closed), the protection of the
 * process against what lvm2_init and lvm2_run change (stdin and stdout
 * are pointed at /dev/null during every LVM call and restored after, so
 * the call's JSON result reaches the real stdout intact and no prompt
 * can read the call's input; umask and locale are restored), the
 * building of command lines, the parsing of reports and the
 * classification of failures.
 *
 * Every name that reaches a command line is checked here first: VG and
 * LV names against LVM's rules (charset [A-Za-z0-9+_.-], no leading '-',
 * not "." or "..", no reserved prefix or infix, length), tags against a
 * safe alphabet, device paths against a plain /dev/ path form.  A name
 * that fails is refused with a clear error (Invalid_argument) before any
 * command runs; the plugin passes only names it generated itself.
 *
 * A failed command records one error (lq/err.h) whose xapi code tells
 * the class of the failure (docs/lvm.md, docs/errors.md):
 *   already exists      Lvm_exists                 errnum EEXIST
 *   not found           Lvm_not_found              ENOENT
 *   no free extents     SR_BACKEND_FAILURE_44      ENOSPC
 *   metadata area full  Lvm_metadata_full          ENOSPC
 *   locked elsewhere    Lvm_locked                 EBUSY
 *   device refused      Lvm_device_refused         EINVAL
 *   anything else       Internal_error             EIO
 * and lvm_last_class() gives the class to callers that react to it.
 *
 * Not thread-safe by nature (liblvm2cmd has process-wide state): calls
 * are serialised by a mutex.  The NBD server never calls this module, so
 * it never loads liblvm2cmd (docs/lvm.md).
 */
#ifndef LQ_LVM_H
#define LQ_LVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* LVM's NAME_LEN is 128 with the NUL; "vg/lv" must stay below 128. */
#define LVM_NAME_MAX 127
#define LVM_VG_LV_MAX 124   /* strlen(vg) + strlen(lv) at most */
#define LVM_TAG_MAX 128     /* ours are short: a long tag endangers report lines */
#define LVM_TAGS_MAX 1024   /* all tags of one object, comma-joined */
#define LVM_DEV_MAX 255
#define LVM_ATTR_MAX 16
/* A metadata area for thousands of LVs (about 350 bytes each, half the
 * area usable): 64 MiB holds far more than commands can handle fast. */
#define LVM_MDA_DEFAULT (64ULL << 20)

enum lvm_class {
	LVM_OK,
	LVM_EXISTS,
	LVM_NOT_FOUND,
	LVM_NO_SPACE,
	LVM_META_FULL,
	LVM_LOCKED,
	LVM_DEVICE,     /* the device is unusable: filtered, in use, holds data */
	LVM_NOT_LARGER, /* an extend to a size the LV has already */
	LVM_INVALID,    /* LVM refused the command line: a bug of ours */
	LVM_OTHER,
};

enum lvm_activation {
	LVM_ACT_EXCLUSIVE,  /* read-write, this host only (-aey) */
	LVM_ACT_SHARED,     /* read-write, several hosts may hold it (-asy) */
	LVM_ACT_READONLY,   /* shared, and the device is read-only */
};

struct lvm_lv {
	char name[LVM_NAME_MAX + 1];
	uint64_t size;                 /* bytes */
	uint64_t extent_size;          /* the VG's, bytes */
	char attr[LVM_ATTR_MAX];       /* lv_attr as LVM prints it */
	bool active;                   /* attr[4] == 'a' */
	bool open;                     /* attr[5] == 'o' */
	char tags[LVM_TAGS_MAX];       /* comma-joined, as LVM prints them */
};

struct lvm_lv_list {
	size_t n;
	struct lvm_lv *lv;
};

struct lvm_pv {
	char name[LVM_DEV_MAX + 1];
	char vg[LVM_NAME_MAX + 1];     /* "" for a PV in no VG */
	uint64_t size;                 /* bytes */
};

struct lvm_vg {
	char name[LVM_NAME_MAX + 1];
	uint64_t size, free, extent_size;   /* bytes */
	uint64_t lv_count;
	uint64_t mda_size, mda_free;        /* the smallest metadata area */
	char tags[LVM_TAGS_MAX];
};

/* Name checks (no command runs; false for NULL). */
bool lvm_vg_name_ok(const char *vg);
bool lvm_lv_name_ok(const char *vg, const char *lv);
bool lvm_tag_ok(const char *tag);
bool lvm_dev_path_ok(const char *dev);

/* Class of this thread's last command (LVM_OK if it succeeded). */
enum lvm_class lvm_last_class(void);
const char *lvm_class_name(enum lvm_class c);

/* "LVM version: ..." as the library reports it (also loads and
 * initialises the library: a cheap way to check it works). */
int lvm_version(char *buf, size_t n);

/* Physical volume with a metadata area of mda_bytes (a whole number of
 * MiB), then a VG of extent_bytes extents (0: LVM's default) holding it,
 * tagged with tag (NULL: none).  Nothing is wiped: a device holding a
 * signature is refused (Lvm_device_refused). */
int lvm_pv_create(const char *dev, uint64_t mda_bytes);
int lvm_vg_create(const char *vg, const char *dev, uint64_t extent_bytes, const char *tag);
/* Remove an empty VG (one holding LVs is refused), then its PV label. */
int lvm_vg_remove(const char *vg);
int lvm_pv_remove(const char *dev);

/* LVs, by name.  Create makes an inactive, unzeroed LV of at least
 * bytes (LVM rounds up to whole extents); resize to at least bytes (no
 * command when the rounded size is already the LV's), shrinking without
 * asking: the caller knows what the LV holds.  Remove refuses an active
 * LV. */
int lvm_lv_create(const char *vg, const char *lv, uint64_t bytes, const char *tag);
int lvm_lv_remove(const char *vg, const char *lv);
int lvm_lv_resize(const char *vg, const char *lv, uint64_t bytes);
/* The same knowing the LV's size and its VG's extent size: no report
 * runs.  Growing is decided exactly from cur; a shrink is skipped when
 * bytes rounded up to ext gives cur. */
int lvm_lv_resize_known(const char *vg, const char *lv, uint64_t bytes, uint64_t cur,
			uint64_t ext);
/* Grow to at least bytes, never shrink, with no report first: an LV
 * already that big (LVM refuses: not larger, or the same size) is left
 * as it is, and that is no error. */
int lvm_lv_extend(const char *vg, const char *lv, uint64_t bytes);
/* The size of an active LV from its device node, with no command
 * (ENOENT when the LV is not active). */
int lvm_lv_active_size(const char *vg, const char *lv, uint64_t *bytes);
int lvm_lv_rename(const char *vg, const char *lv, const char *new_lv);
int lvm_lv_add_tag(const char *vg, const char *lv, const char *tag);

/* Reports.  lvm_pv_get: the PV on dev (Lvm_not_found when dev holds
 * none); lvm_pv_of_vg: the single PV of a one-PV VG.  lvm_lv_list fills
 * *out (free with lvm_lv_list_free). */
int lvm_pv_get(const char *dev, struct lvm_pv *out);
int lvm_pv_of_vg(const char *vg, struct lvm_pv *out);
int lvm_vg_get(const char *vg, struct lvm_vg *out);
int lvm_lv_get(const char *vg, const char *lv, struct lvm_lv *out);
int lvm_lv_list(const char *vg, struct lvm_lv_list *out);
void lvm_lv_list_free(struct lvm_lv_list *l);

/* Activation.  Activate checks afterwards that the device node exists
 * (and is read-only for LVM_ACT_READONLY): an lvm.conf with
 * global/activation=0 makes LVM report success without activating. */
int lvm_lv_activate(const char *vg, const char *lv, enum lvm_activation mode);
int lvm_lv_deactivate(const char *vg, const char *lv);
/* Up to LVM_BATCH_MAX LVs of one VG in one command: the VG's metadata
 * is read once, not once per LV: a chain is activated, and let go of,
 * in one command. */
#define LVM_BATCH_MAX 16
int lvm_lvs_activate(const char *vg, const char *const *lvs, size_t n);   /* exclusive */
int lvm_lvs_deactivate(const char *vg, const char *const *lvs, size_t n);
/* Inactive LVs only, as lvm_lv_remove.  When one is not found the
 * others are still removed and the class is Lvm_not_found. */
int lvm_lvs_remove(const char *vg, const char *const *lvs, size_t n);
/* The same, but an LV active and open nowhere on this host is
 * deactivated and removed in the one command: no activation by someone
 * else can come in between.  An open LV is still refused. */
int lvm_lvs_remove_unused(const char *vg, const char *const *lvs, size_t n);
/* "/dev/<vg>/<lv>" */
int lvm_lv_path(const char *vg, const char *lv, char *buf, size_t n);

#endif
