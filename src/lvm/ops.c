/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm/ops: the operations the LVM store needs, one command each.
 *
 * Every operation checks its names first (Invalid_argument, nothing
 * run), then builds its command from fixed words and those names.  All
 * commands carry --config global{use_aio=0}: with asynchronous I/O each
 * command spends 35-45 ms tearing its aio context down (docs/lvm.md).
 * And backup{archive=0}: by default LVM keeps a new copy of the VG's
 * whole metadata in archive_dir before every change, for 30 days; a VG
 * that changes with every create, snapshot and resize (at 1000 volumes
 * 430 KB of text a copy) would grow the host's root file system by a
 * copy a change.  The one backup file per VG (backup=1) is left to the
 * host's lvm.conf.
 * Commands never answer a prompt with yes: stdin is /dev/null while they
 * run, so a question (wipe a signature? remove an active LV? remove a VG
 * holding LVs?) is answered no and the command fails, changing nothing. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/fs.h>

#include "lq/err.h"
#include "lq/xerr.h"
#include "lvm-int.h"

#define BASE_CONFIG "global{use_aio=0} backup{archive=0}"
/* While it suspends a device (an activation change, the resize of an
 * active LV) LVM pins every mapping of the process in memory, so that no
 * page fault can wait on I/O to a suspended device: a page backed by
 * the host's root, or the heap if the host swaps to an LV.  The devices
 * this plugin suspends are its SR's own LVs, which hold images only: no
 * mapping of the process is ever backed by one.  So file mappings ("/")
 * and the heap and stacks ("[") are left unpinned.  Pinning them paged
 * in and locked some 60 MB (libxml2 brings ICU's 31 MB of data) on every
 * such command. */
#define ACTIVATION_CONFIG "activation{mlock_filter=[\"/\",\"[\"]%s}"
#define LV_FIELDS "lv_name,lv_size,vg_extent_size,lv_attr,lv_tags"
#define PV_FIELDS "pv_name,vg_name,pv_size"
#define VG_FIELDS "vg_name,vg_size,vg_free,vg_extent_size,lv_count,vg_mda_size,vg_mda_free,vg_tags"

/* ---- edges ---------------------------------------------------------- */

static int check_vg(const char *vg)
{
	if (!lvm_vg_name_ok(vg))
		return err_xapi(XERR_INVALID, "lvm: invalid VG name '%.64s'", vg ? vg : "");
	return 0;
}

static int check_lv(const char *vg, const char *lv)
{
	if (check_vg(vg) < 0)
		return -1;
	if (!lvm_lv_name_ok(vg, lv))
		return err_xapi(XERR_INVALID, "lvm: invalid LV name '%.64s' in VG %s",
				lv ? lv : "", vg);
	return 0;
}

static int check_tag(const char *tag)
{
	if (tag && !lvm_tag_ok(tag))
		return err_xapi(XERR_INVALID, "lvm: invalid tag '%.64s'", tag);
	return 0;
}

static int check_dev(const char *dev)
{
	if (!lvm_dev_path_ok(dev))
		return err_xapi(XERR_INVALID, "lvm: invalid device path '%.64s'", dev ? dev : "");
	return 0;
}

/* A batch: 1 to LVM_BATCH_MAX LVs of one VG. */
static int check_lvs(const char *vg, const char *const *lvs, size_t n)
{
	assert(n > 0 && n <= LVM_BATCH_MAX);
	for (size_t i = 0; i < n; i++)
		if (check_lv(vg, lvs[i]) < 0)
			return -1;
	return 0;
}

static void add_lvs(struct lvm_cmd *c, const char *vg, const char *const *lvs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lvm_cmd_addf(c, "%s/%s", vg, lvs[i]);
}

/* Bytes as an LVM size: whole 512-byte sectors (LVM refuses others; it
 * rounds up to whole extents itself). */
static int sectors(uint64_t bytes, uint64_t *out)
{
	if (bytes == 0 || bytes > UINT64_MAX - 511)
		return err_xapi(XERR_INVALID_SIZE, "lvm: size %llu out of range",
				(unsigned long long)bytes);
	*out = (bytes + 511) / 512 * 512;
	return 0;
}

/* ---- running -------------------------------------------------------- */

static void start(struct lvm_cmd *c, const char *verb)
{
	lvm_cmd_init(c, verb);
	lvm_cmd_addf(c, "--config");
	lvm_cmd_add_quoted(c, BASE_CONFIG);
}

/* A command that may suspend a device; extra: more activation settings. */
static void start_suspending(struct lvm_cmd *c, const char *verb, const char *extra)
{
	char config[LVM_NAME_MAX * 2 + 160];

	lvm_cmd_init(c, verb);
	lvm_cmd_addf(c, "--config");
	snprintf(config, sizeof config, BASE_CONFIG " " ACTIVATION_CONFIG, extra);
	lvm_cmd_add_quoted(c, config);
}

/* Run a command whose output is not needed. */
static int run(const struct lvm_cmd *c)
{
	struct lvm_output o;
	int rc = lvm_run(c, &o);

	lvm_output_free(&o);
	return rc;
}

static void report_args(struct lvm_cmd *c, const char *fields)
{
	lvm_cmd_addf(c, "--reportformat");
	lvm_cmd_addf(c, "json");
	lvm_cmd_addf(c, "--units");
	lvm_cmd_addf(c, "b");
	lvm_cmd_addf(c, "--nosuffix");
	lvm_cmd_addf(c, "-o");
	lvm_cmd_addf(c, "%s", fields);
}

/* ---- version -------------------------------------------------------- */

int lvm_version(char *buf, size_t n)
{
	struct lvm_cmd c;
	struct lvm_output o;
	const char *line;

	lvm_cmd_init(&c, "version");
	if (lvm_run(&c, &o) < 0)
		return -1;
	line = o.info ? strstr(o.info, "LVM version:") : NULL;
	int rc = line ? 0 : err_set(EIO, "lvm version: no \"LVM version:\" line printed");
	if (line)
		snprintf(buf, n, "%.*s", (int)strcspn(line, "\n"), line);
	lvm_output_free(&o);
	return rc;
}

/* ---- PVs and VGs ---------------------------------------------------- */

int lvm_pv_create(const char *dev, uint64_t mda_bytes)
{
	struct lvm_cmd c;

	if (check_dev(dev) < 0)
		return -1;
	if (!mda_bytes || mda_bytes % (1ULL << 20))
		return err_set(EINVAL, "lvm pvcreate: metadata size %llu is not whole MiB",
			       (unsigned long long)mda_bytes);
	start(&c, "pvcreate");
	lvm_cmd_addf(&c, "--metadatasize");
	lvm_cmd_addf(&c, "%llum", (unsigned long long)(mda_bytes >> 20));
	lvm_cmd_addf(&c, "%s", dev);
	return run(&c);
}

/* vgcreate --setautoactivation came with LVM 2.03.12. */
static bool autoactivation_settable(void)
{
	char v[128];
	unsigned major, minor, patch;

	if (lvm_version(v, sizeof v) < 0) {
		err_clear();
		return false;
	}
	if (sscanf(v, "LVM version: %u.%u.%u", &major, &minor, &patch) != 3)
		return false;
	return major > 2 || (major == 2 && (minor > 3 || (minor == 3 && patch >= 12)));
}

int lvm_vg_create(const char *vg, const char *dev, uint64_t extent_bytes, const char *tag)
{
	struct lvm_cmd c;

	if (check_vg(vg) < 0 || check_dev(dev) < 0 || check_tag(tag) < 0)
		return -1;
	if (extent_bytes % 1024)
		return err_set(EINVAL, "lvm vgcreate: extent size %llu is not whole KiB",
			       (unsigned long long)extent_bytes);
	start(&c, "vgcreate");
	/* The host's boot (udev's pvscan, lvm2-activation) would otherwise
	 * activate every LV of the VG when the device appears: every image
	 * of the SR open in device-mapper, though nothing serves it.  Each
	 * call activates what it needs. */
	if (autoactivation_settable()) {
		lvm_cmd_addf(&c, "--setautoactivation");
		lvm_cmd_addf(&c, "n");
	}
	if (extent_bytes) {
		lvm_cmd_addf(&c, "-s");
		lvm_cmd_addf(&c, "%lluk", (unsigned long long)(extent_bytes >> 10));
	}
	if (tag) {
		lvm_cmd_addf(&c, "--addtag");
		lvm_cmd_addf(&c, "%s", tag);
	}
	lvm_cmd_addf(&c, "%s", vg);
	lvm_cmd_addf(&c, "%s", dev);
	return run(&c);
}

/* vgremove would ask before removing LVs (and be answered no): asking
 * LVM first gives the clear error. */
int lvm_vg_remove(const char *vg)
{
	struct lvm_cmd c;
	struct lvm_vg info;

	if (check_vg(vg) < 0 || lvm_vg_get(vg, &info) < 0)
		return -1;
	if (info.lv_count)
		return err_set(ENOTEMPTY, "lvm vgremove %s: the VG still holds %llu LVs", vg,
			       (unsigned long long)info.lv_count);
	start(&c, "vgremove");
	lvm_cmd_addf(&c, "%s", vg);
	return run(&c);
}

int lvm_pv_remove(const char *dev)
{
	struct lvm_cmd c;

	if (check_dev(dev) < 0)
		return -1;
	start(&c, "pvremove");
	lvm_cmd_addf(&c, "%s", dev);
	return run(&c);
}

/* ---- LVs ------------------------------------------------------------ */

int lvm_lv_create(const char *vg, const char *lv, uint64_t bytes, const char *tag)
{
	struct lvm_cmd c;
	uint64_t size = 0;

	if (check_lv(vg, lv) < 0 || check_tag(tag) < 0 || sectors(bytes, &size) < 0)
		return -1;
	/* -an -Zn together: LVM 2.03.16 reports success for -an -Zy and
	 * creates nothing. */
	start(&c, "lvcreate");
	lvm_cmd_addf(&c, "-an");
	lvm_cmd_addf(&c, "-Zn");
	lvm_cmd_addf(&c, "-Wn");
	lvm_cmd_addf(&c, "-n");
	lvm_cmd_addf(&c, "%s", lv);
	lvm_cmd_addf(&c, "-L");
	lvm_cmd_addf(&c, "%llub", (unsigned long long)size);
	if (tag) {
		lvm_cmd_addf(&c, "--addtag");
		lvm_cmd_addf(&c, "%s", tag);
	}
	lvm_cmd_addf(&c, "%s", vg);
	return run(&c);
}

int lvm_lv_remove(const char *vg, const char *lv)
{
	return lvm_lvs_remove(vg, &lv, 1);
}

/* One command for several LVs reads and scans the VG once. */
static int remove_lvs(const char *vg, const char *const *lvs, size_t n, bool unused)
{
	struct lvm_cmd c;

	if (check_lvs(vg, lvs, n) < 0)
		return -1;
	start(&c, "lvremove");
	/* One -f deactivates an active LV that no one opens, in the same
	 * command (lvremove refuses an active LV otherwise: its prompt reads
	 * no on a closed stdin), and still refuses an open one. */
	if (unused)
		lvm_cmd_addf(&c, "-f");
	add_lvs(&c, vg, lvs, n);
	return run(&c);
}

int lvm_lvs_remove(const char *vg, const char *const *lvs, size_t n)
{
	return remove_lvs(vg, lvs, n, false);
}

int lvm_lvs_remove_unused(const char *vg, const char *const *lvs, size_t n)
{
	return remove_lvs(vg, lvs, n, true);
}

/* LVM 2.03.16 fails a resize to the current size, so the size is
 * compared first, rounded up to whole extents as LVM would. */
int lvm_lv_resize(const char *vg, const char *lv, uint64_t bytes)
{
	struct lvm_lv cur;
	uint64_t size;

	/* A size out of range is refused before any command runs. */
	if (sectors(bytes, &size) < 0 || lvm_lv_get(vg, lv, &cur) < 0)
		return -1;
	return lvm_lv_resize_known(vg, lv, bytes, cur.size, cur.extent_size);
}

int lvm_lv_resize_known(const char *vg, const char *lv, uint64_t bytes, uint64_t cur,
			uint64_t ext)
{
	struct lvm_cmd c;
	uint64_t size = 0;

	if (check_lv(vg, lv) < 0 || sectors(bytes, &size) < 0)
		return -1;
	if (!ext || size > UINT64_MAX - ext + 1)
		return err_xapi(XERR_INVALID_SIZE, "lvm: size %llu out of range",
				(unsigned long long)bytes);
	if ((size + ext - 1) / ext * ext == cur)
		return 0;
	start_suspending(&c, "lvresize", "");
	lvm_cmd_addf(&c, "-f");
	lvm_cmd_addf(&c, "-L");
	lvm_cmd_addf(&c, "%llub", (unsigned long long)size);
	lvm_cmd_addf(&c, "%s/%s", vg, lv);
	return run(&c);
}

int lvm_lv_extend(const char *vg, const char *lv, uint64_t bytes)
{
	struct lvm_cmd c;
	uint64_t size = 0;

	if (check_lv(vg, lv) < 0 || sectors(bytes, &size) < 0)
		return -1;
	start_suspending(&c, "lvextend", "");
	lvm_cmd_addf(&c, "-L");
	lvm_cmd_addf(&c, "%llub", (unsigned long long)size);
	lvm_cmd_addf(&c, "%s/%s", vg, lv);
	if (run(&c) == 0)
		return 0;
	if (lvm_last_class() != LVM_NOT_LARGER)
		return -1;
	err_clear();
	return 0;
}

int lvm_lv_rename(const char *vg, const char *lv, const char *new_lv)
{
	struct lvm_cmd c;

	if (check_lv(vg, lv) < 0 || check_lv(vg, new_lv) < 0)
		return -1;
	start(&c, "lvrename");
	lvm_cmd_addf(&c, "%s", vg);
	lvm_cmd_addf(&c, "%s", lv);
	lvm_cmd_addf(&c, "%s", new_lv);
	return run(&c);
}

int lvm_lv_add_tag(const char *vg, const char *lv, const char *tag)
{
	struct lvm_cmd c;

	if (check_lv(vg, lv) < 0 || !tag || check_tag(tag) < 0)
		return tag ? -1 : err_xapi(XERR_INVALID, "lvm: no tag");
	start(&c, "lvchange");
	lvm_cmd_addf(&c, "--addtag");
	lvm_cmd_addf(&c, "%s", tag);
	lvm_cmd_addf(&c, "%s/%s", vg, lv);
	return run(&c);
}

/* ---- reports -------------------------------------------------------- */

int lvm_vg_get(const char *vg, struct lvm_vg *out)
{
	struct lvm_cmd c;
	struct lvm_output o;

	if (check_vg(vg) < 0)
		return -1;
	start(&c, "vgs");
	report_args(&c, VG_FIELDS);
	lvm_cmd_addf(&c, "%s", vg);
	if (lvm_run(&c, &o) < 0)
		return -1;
	int rc = lvm_report_vg(o.report, o.cut, out);
	if (rc == 0 && strcmp(out->name, vg))
		rc = err_set(EIO, "lvm vgs %s: the report names VG %s", vg, out->name);
	lvm_output_free(&o);
	return rc;
}

/* pvs with one selector word (a device, or a selection after -S). */
static int pvs(const char *sel_flag, const char *what, struct lvm_pv *out)
{
	struct lvm_cmd c;
	struct lvm_output o;

	start(&c, "pvs");
	report_args(&c, PV_FIELDS);
	if (sel_flag) {
		lvm_cmd_addf(&c, "%s", sel_flag);
		lvm_cmd_addf(&c, "vg_name=%s", what);
	} else {
		lvm_cmd_addf(&c, "%s", what);
	}
	if (lvm_run(&c, &o) < 0)
		return -1;
	int rc = lvm_report_pv(o.report, o.cut, out);
	lvm_output_free(&o);
	return rc;
}

int lvm_pv_get(const char *dev, struct lvm_pv *out)
{
	if (check_dev(dev) < 0)
		return -1;
	return pvs(NULL, dev, out);
}

int lvm_pv_of_vg(const char *vg, struct lvm_pv *out)
{
	if (check_vg(vg) < 0)
		return -1;
	return pvs("-S", vg, out);
}

static int lvs(const char *vg, const char *lv, struct lvm_lv_list *out)
{
	struct lvm_cmd c;
	struct lvm_output o;

	start(&c, "lvs");
	report_args(&c, LV_FIELDS);
	if (lv)
		lvm_cmd_addf(&c, "%s/%s", vg, lv);
	else
		lvm_cmd_addf(&c, "%s", vg);
	if (lvm_run(&c, &o) < 0)
		return -1;
	int rc = lvm_report_lvs(o.report, o.cut, vg, out);
	lvm_output_free(&o);
	return rc;
}

int lvm_lv_list(const char *vg, struct lvm_lv_list *out)
{
	memset(out, 0, sizeof *out);
	if (check_vg(vg) < 0)
		return -1;
	return lvs(vg, NULL, out);
}

int lvm_lv_get(const char *vg, const char *lv, struct lvm_lv *out)
{
	struct lvm_lv_list l;

	if (check_lv(vg, lv) < 0 || lvs(vg, lv, &l) < 0)
		return -1;
	int rc = 0;
	if (l.n != 1 || strcmp(l.lv[0].name, lv))
		rc = err_set(EIO, "lvm lvs %s/%s: the report holds %zu rows, not this LV", vg, lv, l.n);
	else
		*out = l.lv[0];
	lvm_lv_list_free(&l);
	return rc;
}

/* ---- activation ----------------------------------------------------- */

int lvm_lv_path(const char *vg, const char *lv, char *buf, size_t n)
{
	if (check_lv(vg, lv) < 0)
		return -1;
	if ((size_t)snprintf(buf, n, "/dev/%s/%s", vg, lv) >= n)
		return err_set(ENAMETOOLONG, "lvm: path of %s/%s too long", vg, lv);
	return 0;
}

int lvm_lv_active_size(const char *vg, const char *lv, uint64_t *bytes)
{
	char path[LVM_NAME_MAX * 2 + 8];
	struct stat st;
	int fd, rc = 0;

	if (check_lv(vg, lv) < 0 || lvm_lv_path(vg, lv, path, sizeof path) < 0)
		return -1;
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return err_set(ENOENT, "lvm: %s/%s is not active", vg, lv);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys("lvm: opening %s: %m", path);
	if (ioctl(fd, BLKGETSIZE64, bytes) < 0)
		rc = err_sys("lvm: BLKGETSIZE64 on %s: %m", path);
	close(fd);
	return rc;
}

/* LVM says an activation succeeded also when lvm.conf disables
 * activation: the device node is the proof. */
static int check_active(const char *vg, const char *lv, bool readonly)
{
	char path[LVM_NAME_MAX * 2 + 8];
	struct stat st;
	int ro = 0, rc = 0;

	if (lvm_lv_path(vg, lv, path, sizeof path) < 0)
		return -1;
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return err_set(EIO, "lvm: %s/%s reported active but %s is no block device "
			       "(is activation disabled in lvm.conf?)", vg, lv, path);
	if (!readonly)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys("lvm: opening %s: %m", path);
	if (ioctl(fd, BLKROGET, &ro) < 0)
		rc = err_sys("lvm: BLKROGET on %s: %m", path);
	else if (!ro)
		rc = err_set(EIO, "lvm: %s was to be activated read-only but is writable", path);
	close(fd);
	return rc;
}

static void activation_args(struct lvm_cmd *c, const char *vg, const char *lv,
			    enum lvm_activation mode)
{
	char ro[LVM_NAME_MAX * 2 + 48] = "";

	/* Read-only for this activation only; -pr would change the LV's
	 * permission in the metadata for good. */
	if (mode == LVM_ACT_READONLY)
		snprintf(ro, sizeof ro, " read_only_volume_list=[\"%s/%s\"]", vg, lv);
	start_suspending(c, "lvchange", ro);
	lvm_cmd_addf(c, "%s", mode == LVM_ACT_EXCLUSIVE ? "-aey" : "-asy");
	lvm_cmd_addf(c, "%s/%s", vg, lv);
}

int lvm_lv_activate(const char *vg, const char *lv, enum lvm_activation mode)
{
	struct lvm_cmd c;

	if (check_lv(vg, lv) < 0)
		return -1;
	activation_args(&c, vg, lv, mode);
	if (run(&c) < 0)
		return -1;
	return check_active(vg, lv, mode == LVM_ACT_READONLY);
}

/* "lvchange --config ... FLAG VG/LV..." for up to LVM_BATCH_MAX LVs. */
static int lvchange_many(struct lvm_cmd *c, const char *flag, const char *vg,
			 const char *const *lvs, size_t n)
{
	if (check_lvs(vg, lvs, n) < 0)
		return -1;
	start_suspending(c, "lvchange", "");
	lvm_cmd_addf(c, "%s", flag);
	add_lvs(c, vg, lvs, n);
	return 0;
}

int lvm_lvs_activate(const char *vg, const char *const *lvs, size_t n)
{
	struct lvm_cmd c;

	if (lvchange_many(&c, "-aey", vg, lvs, n) < 0 || run(&c) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (check_active(vg, lvs[i], false) < 0)
			return -1;
	return 0;
}

int lvm_lvs_deactivate(const char *vg, const char *const *lvs, size_t n)
{
	struct lvm_cmd c;

	if (lvchange_many(&c, "-an", vg, lvs, n) < 0)
		return -1;
	return run(&c);
}

int lvm_lv_deactivate(const char *vg, const char *lv)
{
	return lvm_lvs_deactivate(vg, &lv, 1);
}
