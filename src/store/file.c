/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/file: the directory store of the fileqcow SR type.
 *
 * Layout of an SR directory (the SR string is its canonical path):
 *   lvqcow-sr.meta   the metadata area (file-meta.c)
 *   lvqcow-sr.lock   the SR lock file (flock), kept for the SR's life
 *   images/          one qcow2 file per node: <node uuid>.qcow2
 *   quarantine/      unreferenced images set aside: <image>.<unix time>
 *
 * The SR directory is opened once (O_DIRECTORY|O_NOFOLLOW) and everything
 * below it is reached relative to that descriptor, never through a
 * symlink: images/ or quarantine/ that is not a real directory, or an
 * image name that is not a regular file, is refused with an error and
 * left alone.  The store removes only names of its own exact form
 * (lowercase node uuid + ".qcow2", and those plus ".<digits>" in
 * quarantine/), so neither a damaged document nor a foreign file in the
 * SR can make it delete anything else.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lq/env.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/lock.h"
#include "lq/file.h"
#include "lq/meta.h"
#include "file-meta.h"
#include "lq/store.h"
#include "lq/uuid.h"
#include "lq/xerr.h"

#define FS_DOC FILE_META_AREA
#define FS_LOCK "lvqcow-sr.lock"
#define FS_IMAGES "images"
#define FS_QUARANTINE "quarantine"
#define FS_SUFFIX ".qcow2"
#define FS_IMAGE_LEN (UUID_STR_LEN - 1 + sizeof FS_SUFFIX - 1)
#define FS_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct fs_store {
	struct store base;
	int root_fd;
	int images_fd;      /* opened on first use, -1 until then */
	int quarantine_fd;  /* likewise */
	int lock_fd;
};

static struct fs_store *fs_of(struct store *st)
{
	return (struct fs_store *)st;
}

static int fs_join(char *buf, size_t n, const char *root, const char *a, const char *b)
{
	int len = snprintf(buf, n, "%s/%s%s%s", root, a, b ? "/" : "", b ? b : "");

	if (len < 0 || (size_t)len >= n)
		return err_xapi(XERR_INVALID, "path too long under %s", root);
	return 0;
}

static int fs_sr_config(struct json_object *config, const char *uuid, char **root)
{
	struct json_object *p;
	char real[PATH_MAX];
	struct stat st;
	const char *path;

	if (!json_object_object_get_ex(config, "path", &p) || !json_object_is_type(p, json_type_string))
		return err_xapi(XERR_INVALID, "device-config needs 'path', an existing directory");
	path = json_object_get_string(p);
	if (path[0] != '/' || strlen(path) >= PATH_MAX - 64)
		return err_xapi(XERR_INVALID, "path '%s' is not an absolute path", path);
	if (!realpath(path, real) || stat(real, &st) < 0)
		return err_xapi(XERR_INVALID, "path '%s': %m", path);
	if (!S_ISDIR(st.st_mode))
		return err_xapi(XERR_INVALID, "path '%s' is not a directory", path);
	if (strlen(real) >= PATH_MAX - 64)
		return err_xapi(XERR_INVALID, "path '%s' is too long", real);
	*root = strdup(real);
	return *root ? 0 : err_set(ENOMEM, "out of memory");
}

/* ---- names ---------------------------------------------------------------- */

static bool fs_uuid_ok(const char *s, size_t n)
{
	char u[UUID_STR_LEN];

	if (n != UUID_STR_LEN - 1)
		return false;
	memcpy(u, s, n);
	u[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (isupper((unsigned char)u[i]))
			return false;
	return uuid_is_valid(u);
}

static bool fs_image_name_ok(const char *image)
{
	size_t n = strlen(image);

	return n == FS_IMAGE_LEN && !strcmp(image + n - strlen(FS_SUFFIX), FS_SUFFIX) &&
	       fs_uuid_ok(image, UUID_STR_LEN - 1);
}

/* "<image>.<unix time>": copies the image name out and returns true. */
static bool fs_entry_parse(const char *entry, char image[FS_IMAGE_LEN + 1], time_t *since)
{
	size_t n = strlen(entry), digits;
	const char *t;

	if (n < FS_IMAGE_LEN + 2 || n > FS_IMAGE_LEN + 19 || entry[FS_IMAGE_LEN] != '.')
		return false;
	t = entry + FS_IMAGE_LEN + 1;
	digits = n - FS_IMAGE_LEN - 1;
	for (size_t i = 0; i < digits; i++)
		if (!isdigit((unsigned char)t[i]))
			return false;
	memcpy(image, entry, FS_IMAGE_LEN);
	image[FS_IMAGE_LEN] = '\0';
	*since = (time_t)strtoll(t, NULL, 10);
	return fs_image_name_ok(image);
}

/* ---- directories ---------------------------------------------------------- */

/* Open root/name as a directory, never through a symlink; cached in *slot. */
static int fs_subdir(struct fs_store *s, const char *name, int *slot)
{
	int fd;

	if (*slot >= 0)
		return *slot;
	fd = openat(s->root_fd, name, FS_DIR_FLAGS);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return err_set(ENOTDIR, "%s/%s is not a directory (a symlink or another file): refused",
			       s->base.root, name);
	if (fd < 0)
		return err_sys("%s/%s: %m", s->base.root, name);
	return *slot = fd;
}

static int fs_images(struct fs_store *s)
{
	return fs_subdir(s, FS_IMAGES, &s->images_fd);
}

/* quarantine/, created on first use when create is set; 0 (and *fd -1)
 * if it does not exist and create is not set. */
static int fs_quarantine_dir(struct fs_store *s, bool create, int *fd)
{
	struct stat sb;

	*fd = -1;
	if (create && mkdirat(s->root_fd, FS_QUARANTINE, 0700) < 0 && errno != EEXIST)
		return err_sys("mkdir %s/%s: %m", s->base.root, FS_QUARANTINE);
	if (s->quarantine_fd < 0 &&
	    fstatat(s->root_fd, FS_QUARANTINE, &sb, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return 0;
	*fd = fs_subdir(s, FS_QUARANTINE, &s->quarantine_fd);
	return *fd < 0 ? -1 : 0;
}

static int fs_sync_dir(struct fs_store *s, int fd, const char *what)
{
	if (fsync(fd) < 0)
		return err_sys("fsync %s/%s: %m", s->base.root, what);
	return 0;
}

/* Call fn for every entry of the directory fd but "." and "..". */
static int fs_each_entry(int fd, const char *what, int (*fn)(const char *, void *), void *arg)
{
	int dfd = openat(fd, ".", FS_DIR_FLAGS);
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		rc = err_sys("open %s: %m", what);
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	while (rc == 0 && (errno = 0, e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = fn(e->d_name, arg);
	if (rc == 0 && errno)
		rc = err_sys("readdir %s: %m", what);
	closedir(d);
	return rc;
}

/* 0: name is a regular file in dir fd; 1: absent; -1: anything else. */
static int fs_regular(struct fs_store *s, int fd, const char *dir, const char *name,
		      struct stat *sb)
{
	if (fstatat(fd, name, sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 1;
		return err_sys("stat %s/%s/%s: %m", s->base.root, dir, name);
	}
	if (!S_ISREG(sb->st_mode))
		return err_set(EINVAL, "%s/%s/%s is not a regular file: refused, left alone",
			       s->base.root, dir, name);
	return 0;
}

/* An image of the store's own form that is a regular file or absent. */
static int fs_image_check(struct fs_store *s, const char *image, struct stat *sb)
{
	if (!fs_image_name_ok(image))
		return err_corrupt("invalid image name '%.80s' in SR %s", image, s->base.root);
	if (fs_images(s) < 0)
		return -1;
	return fs_regular(s, s->images_fd, FS_IMAGES, image, sb);
}

/* ---- handle, layout and lock ---------------------------------------------- */

static int fs_open(const char *root, struct store **out)
{
	struct fs_store *s = calloc(1, sizeof *s);

	if (!s || !(s->base.root = strdup(root))) {
		free(s);
		return err_set(ENOMEM, "out of memory");
	}
	s->base.ops = &store_file_ops;
	s->images_fd = s->quarantine_fd = s->lock_fd = -1;
	s->root_fd = open(root, FS_DIR_FLAGS);
	if (s->root_fd < 0) {
		int rc = errno == ENOENT ? err_xapi(XERR_SR_NOT_EXIST, "%s", root)
					 : err_sys("SR directory %s: %m", root);
		free(s->base.root);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void fs_close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void fs_close(struct store *st)
{
	struct fs_store *s = fs_of(st);

	fs_close_fd(s->lock_fd); /* closing the descriptor drops the flock */
	fs_close_fd(s->images_fd);
	fs_close_fd(s->quarantine_fd);
	fs_close_fd(s->root_fd);
	free(s->base.root);
	free(s);
}

static bool fs_sr_exists(struct store *st)
{
	return file_meta_present(fs_of(st)->root_fd);
}

static int fs_not_empty(const char *name, void *arg)
{
	return err_xapi(XERR_INVALID, "%s/%s exists and is not empty", (const char *)arg, FS_IMAGES);
}

/* images/ may survive from an SR destroyed half-way; reuse it if empty. */
static int fs_make_images(struct fs_store *s)
{
	if (mkdirat(s->root_fd, FS_IMAGES, 0700) < 0 && errno != EEXIST)
		return err_sys("mkdir %s/%s: %m", s->base.root, FS_IMAGES);
	if (fs_images(s) < 0)
		return -1;
	return fs_each_entry(s->images_fd, FS_IMAGES, fs_not_empty, s->base.root);
}

static int fs_sr_prepare(struct store *st, struct json_object *config)
{
	struct fs_store *s = fs_of(st);
	int fd;

	if (fs_sr_exists(st))
		return err_xapi(XERR_INVALID, "%s already holds an SR", st->root);
	if (fs_make_images(s) < 0)
		return -1;
	fd = openat(s->root_fd, FS_LOCK, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys("lock file %s/%s: %m", st->root, FS_LOCK);
	close(fd);
	return fs_sync_dir(s, s->root_fd, ".");
}

static int fs_lock_wait(struct store *st, int fd, bool exclusive)
{
	char what[PATH_MAX + 8];
	long long budget = env_integer("LVQCOW_LOCK_TIMEOUT_MS", STORE_LOCK_TIMEOUT_MS, 0, LLONG_MAX);

	snprintf(what, sizeof what, "SR %s", st->root);
	return lock_wait(fd, exclusive, budget, what);
}

/* The lock file is opened read-only: flock does not need write access,
 * so read-only calls work on a read-only filesystem. */
static int fs_lock(struct store *st, enum store_lock mode)
{
	struct fs_store *s = fs_of(st);
	int fd = openat(s->root_fd, FS_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return err_xapi(XERR_SR_NOT_EXIST, "%s", st->root);
	if (fd < 0)
		return err_sys("lock file %s/%s: %m", st->root, FS_LOCK);
	if (fs_lock_wait(st, fd, mode == STORE_EXCLUSIVE) < 0) {
		close(fd);
		return -1;
	}
	s->lock_fd = fd;
	return 0;
}

static void fs_unlock(struct store *st)
{
	struct fs_store *s = fs_of(st);

	fs_close_fd(s->lock_fd);
	s->lock_fd = -1;
}

/* ---- metadata area ---------------------------------------------------------- */

static int fs_meta_open(struct store *st, bool writable, int *fd)
{
	return file_meta_open(fs_of(st)->root_fd, st->root, writable, fd);
}

static int fs_meta_build(struct store *st, int (*fill)(int fd, void *arg), void *arg)
{
	return file_meta_build(fs_of(st)->root_fd, st->root, fill, arg);
}

/* ---- images ----------------------------------------------------------------- */

static int fs_image_path(struct store *st, const char *image, char *buf, size_t n)
{
	struct stat sb;

	if (fs_image_check(fs_of(st), image, &sb) < 0)
		return -1;
	return fs_join(buf, n, st->root, FS_IMAGES, image);
}

static int fs_node_alloc(struct store *st, const char *node_uuid, uint64_t room,
			 char *image, size_t n)
{
	/* Files grow on demand: nothing to reserve. */
	if (snprintf(image, n, "%s%s", node_uuid, FS_SUFFIX) >= (int)n || !fs_image_name_ok(image))
		return err_set(EINVAL, "bad node uuid '%.64s'", node_uuid);
	return 0;
}

/* A new image file, never through a link and never over an old one. */
static int fs_image_create(struct store *st, const char *image, int *fd)
{
	struct fs_store *s = fs_of(st);

	if (!fs_image_name_ok(image))
		return err_set(EINVAL, "not an image name: '%.64s'", image);
	if (fs_images(s) < 0)
		return -1;
	*fd = openat(s->images_fd, image, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0)
		return err_sys("create %s/%s/%s: %m", st->root, FS_IMAGES, image);
	return 0;
}

static int fs_node_remove(struct store *st, const char *image)
{
	struct fs_store *s = fs_of(st);
	struct stat sb;
	int rc = fs_image_check(s, image, &sb);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (unlinkat(s->images_fd, image, 0) < 0 && errno != ENOENT)
		return err_sys("unlink %s/%s/%s: %m", st->root, FS_IMAGES, image);
	return fs_sync_dir(s, s->images_fd, FS_IMAGES);
}

static int fs_nodes_remove(struct store *st, const char *const *images, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fs_node_remove(st, images[i]) < 0)
			return -1;
	return 0;
}

static int fs_image_size(struct store *st, const char *image, uint64_t *bytes)
{
	struct stat sb;
	int rc = fs_image_check(fs_of(st), image, &sb);

	if (rc > 0)
		return err_set(ENOENT, "image %s/%s/%s is missing", st->root, FS_IMAGES, image);
	if (rc < 0)
		return -1;
	*bytes = (uint64_t)sb.st_blocks * 512;
	return 0;
}

static int fs_image_list(struct store *st, store_image_fn fn, void *arg)
{
	struct fs_store *s = fs_of(st);

	if (fs_images(s) < 0)
		return -1;
	return fs_each_entry(s->images_fd, FS_IMAGES, fn, arg);
}

static int fs_space(struct store *st, uint64_t *free_bytes, uint64_t *total_bytes)
{
	struct statvfs v;

	if (fstatvfs(fs_of(st)->root_fd, &v) < 0)
		return err_sys("statvfs %s: %m", st->root);
	*free_bytes = (uint64_t)v.f_bavail * v.f_frsize;
	*total_bytes = (uint64_t)v.f_blocks * v.f_frsize;
	return 0;
}

/* ---- quarantine --------------------------------------------------------------- */

static int fs_quarantine(struct store *st, const char *image, time_t now)
{
	struct fs_store *s = fs_of(st);
	char entry[FS_IMAGE_LEN + 32];
	struct stat sb;
	int rc = fs_image_check(s, image, &sb), qfd;

	if (rc > 0)
		return err_set(ENOENT, "image %s/%s/%s is missing", st->root, FS_IMAGES, image);
	if (rc < 0 || fs_quarantine_dir(s, true, &qfd) < 0)
		return -1;
	snprintf(entry, sizeof entry, "%s.%lld", image, (long long)now);
	if (fs_regular(s, qfd, FS_QUARANTINE, entry, &sb) != 1)
		return err_set(EEXIST, "%s/%s/%s exists: %s not set aside", st->root, FS_QUARANTINE,
			       entry, image);
	if (renameat(s->images_fd, image, qfd, entry) < 0)
		return err_sys("rename %s/%s/%s into %s: %m", st->root, FS_IMAGES, image, FS_QUARANTINE);
	if (fs_sync_dir(s, qfd, FS_QUARANTINE) < 0)
		return -1;
	return fs_sync_dir(s, s->images_fd, FS_IMAGES);
}

struct fs_qlist {
	store_quarantine_fn fn;
	void *arg;
};

static int fs_qlist_one(const char *entry, void *arg)
{
	struct fs_qlist *l = arg;
	char image[FS_IMAGE_LEN + 1];
	struct store_quarantined q = { entry, image, 0 };

	if (!fs_entry_parse(entry, image, &q.since))
		return 0; /* not ours: never listed, never touched */
	return l->fn(&q, l->arg);
}

static int fs_quarantine_list(struct store *st, store_quarantine_fn fn, void *arg)
{
	struct fs_qlist l = { fn, arg };
	int qfd;

	if (fs_quarantine_dir(fs_of(st), false, &qfd) < 0)
		return -1;
	return qfd < 0 ? 0 : fs_each_entry(qfd, FS_QUARANTINE, fs_qlist_one, &l);
}

/* A quarantined entry of the store's form, present as a regular file. */
static int fs_entry_check(struct fs_store *s, const char *entry, char image[FS_IMAGE_LEN + 1],
			  int *qfd)
{
	struct stat sb;
	time_t since;
	int rc;

	if (!fs_entry_parse(entry, image, &since))
		return err_set(EINVAL, "'%.80s' is not a quarantined image name", entry);
	if (fs_quarantine_dir(s, false, qfd) < 0)
		return -1;
	if (*qfd < 0)
		return err_set(ENOENT, "%s/%s does not exist", s->base.root, FS_QUARANTINE);
	rc = fs_regular(s, *qfd, FS_QUARANTINE, entry, &sb);
	if (rc > 0)
		return err_set(ENOENT, "%s/%s/%s is missing", s->base.root, FS_QUARANTINE, entry);
	return rc;
}

static int fs_quarantine_remove(struct store *st, const char *entry)
{
	struct fs_store *s = fs_of(st);
	char image[FS_IMAGE_LEN + 1];
	int qfd;

	if (fs_entry_check(s, entry, image, &qfd) < 0)
		return -1;
	if (unlinkat(qfd, entry, 0) < 0)
		return err_sys("unlink %s/%s/%s: %m", st->root, FS_QUARANTINE, entry);
	return fs_sync_dir(s, qfd, FS_QUARANTINE);
}

static int fs_quarantine_restore(struct store *st, const char *entry)
{
	struct fs_store *s = fs_of(st);
	char image[FS_IMAGE_LEN + 1];
	struct stat sb;
	int qfd, rc;

	if (fs_entry_check(s, entry, image, &qfd) < 0)
		return -1;
	if ((rc = fs_image_check(s, image, &sb)) <= 0)
		return rc < 0 ? -1 : err_set(EEXIST, "%s/%s/%s exists: %s not restored", st->root,
					     FS_IMAGES, image, entry);
	if (renameat(qfd, entry, s->images_fd, image) < 0)
		return err_sys("rename %s/%s/%s back: %m", st->root, FS_QUARANTINE, entry);
	if (fs_sync_dir(s, s->images_fd, FS_IMAGES) < 0)
		return -1;
	return fs_sync_dir(s, qfd, FS_QUARANTINE);
}

/* ---- SR removal ------------------------------------------------------------- */

static int fs_refuse_destroy(struct fs_store *s, const char *dir, const char *name)
{
	return err_set(ENOTEMPTY, "%s/%s/%.80s is not a regular file of this SR's own naming: "
		       "SR.destroy refused, nothing changed", s->base.root, dir, name);
}

static int fs_own_image(const char *name, void *arg)
{
	struct fs_store *s = arg;
	struct stat sb;

	if (!fs_image_name_ok(name) || fs_regular(s, s->images_fd, FS_IMAGES, name, &sb) < 0)
		return fs_refuse_destroy(s, FS_IMAGES, name);
	return 0;
}

static int fs_own_entry(const char *name, void *arg)
{
	struct fs_store *s = arg;
	char image[FS_IMAGE_LEN + 1];
	struct stat sb;
	time_t since;

	if (!fs_entry_parse(name, image, &since) ||
	    fs_regular(s, s->quarantine_fd, FS_QUARANTINE, name, &sb) < 0)
		return fs_refuse_destroy(s, FS_QUARANTINE, name);
	return 0;
}

/* Everything SR.destroy would remove is the store's own. */
static int fs_check_removable(struct fs_store *s)
{
	int qfd;

	if (fs_images(s) < 0 || fs_each_entry(s->images_fd, FS_IMAGES, fs_own_image, s) < 0 ||
	    fs_quarantine_dir(s, false, &qfd) < 0)
		return -1;
	return qfd < 0 ? 0 : fs_each_entry(qfd, FS_QUARANTINE, fs_own_entry, s);
}

static int fs_unlink_image(const char *name, void *arg)
{
	struct fs_store *s = arg;

	if (unlinkat(s->images_fd, name, 0) < 0 && errno != ENOENT)
		return err_sys("unlink %s/%s/%s: %m", s->base.root, FS_IMAGES, name);
	return 0;
}

static int fs_unlink_entry(const char *name, void *arg)
{
	struct fs_store *s = arg;

	if (unlinkat(s->quarantine_fd, name, 0) < 0 && errno != ENOENT)
		return err_sys("unlink %s/%s/%s: %m", s->base.root, FS_QUARANTINE, name);
	return 0;
}

static int fs_rmdir(struct fs_store *s, const char *name)
{
	if (unlinkat(s->root_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return err_sys("rmdir %s/%s: %m", s->base.root, name);
	return 0;
}

/* The area a crashed SR.create left half-built. */
static int fs_unlink_temp(struct fs_store *s)
{
	struct stat sb;

	if (fstatat(s->root_fd, FILE_META_TMP, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
		return 0;
	if (unlinkat(s->root_fd, FILE_META_TMP, 0) < 0 && errno != ENOENT)
		return err_sys("unlink %s/%s: %m", s->base.root, FILE_META_TMP);
	return 0;
}

/* After the document is gone only the store's own names remain (checked
 * before), so the rest can be removed in any order. */
static int fs_remove_rest(struct fs_store *s)
{
	if (fs_unlink_temp(s) < 0)
		return -1;
	if (fs_each_entry(s->images_fd, FS_IMAGES, fs_unlink_image, s) < 0 ||
	    fs_rmdir(s, FS_IMAGES) < 0)
		return -1;
	if (s->quarantine_fd >= 0 &&
	    (fs_each_entry(s->quarantine_fd, FS_QUARANTINE, fs_unlink_entry, s) < 0 ||
	     fs_rmdir(s, FS_QUARANTINE) < 0))
		return -1;
	if (unlinkat(s->root_fd, FS_LOCK, 0) < 0 && errno != ENOENT)
		return err_sys("unlink %s/%s: %m", s->base.root, FS_LOCK);
	return fs_sync_dir(s, s->root_fd, ".");
}

static int fs_sr_remove(struct store *st)
{
	struct fs_store *s = fs_of(st);

	if (fs_check_removable(s) < 0)
		return -1;
	if (unlinkat(s->root_fd, FS_DOC, 0) < 0)
		return err_sys("unlink %s/%s: %m", st->root, FS_DOC);
	if (fs_sync_dir(s, s->root_fd, ".") < 0)
		return -1;
	fault_point("sr-destroy.document-removed");
	return fs_remove_rest(s);
}

const struct store_ops store_file_ops = {
	.type = "fileqcow",
	.sr_config = fs_sr_config,
	.open = fs_open,
	.close = fs_close,
	.sr_prepare = fs_sr_prepare,
	.sr_exists = fs_sr_exists,
	.sr_remove = fs_sr_remove,
	.lock = fs_lock,
	.unlock = fs_unlock,
	.meta_open = fs_meta_open,
	.meta_build = fs_meta_build,
	.image_name_ok = fs_image_name_ok,
	.node_alloc = fs_node_alloc,
	.nodes_remove = fs_nodes_remove,
	.image_create = fs_image_create,
	.image_path = fs_image_path,
	.image_size = fs_image_size,
	.image_list = fs_image_list,
	.space = fs_space,
	.quarantine = fs_quarantine,
	.quarantine_list = fs_quarantine_list,
	.quarantine_remove = fs_quarantine_remove,
	.quarantine_restore = fs_quarantine_restore,
};
