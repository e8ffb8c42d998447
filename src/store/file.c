/* store/file: the directory store of the fileqcow SR type.
 *
 * Layout of an SR directory (the SR string is its canonical path):
 *   lvqcow-sr.xml    the metadata document, replaced by rename
 *   lvqcow-sr.lock   the SR lock file (flock), kept for the SR's life
 *   images/          one qcow2 file per node: <node uuid>.qcow2
 * Image names are checked against that pattern wherever they are used, so
 * a damaged document cannot make us touch a file outside images/.
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "lq/file.h"
#include "lq/lock.h"
#include "lq/meta.h"
#include "lq/rpc.h"
#include "lq/store.h"
#include "lq/uuid.h"

#define FS_DOC "lvqcow-sr.xml"
#define FS_LOCK "lvqcow-sr.lock"
#define FS_IMAGES "images"
#define FS_SUFFIX ".qcow2"

struct fs_store {
	struct store base;
	int lock_fd;
};

static int fs_join(char *buf, size_t n, const char *root, const char *a, const char *b)
{
	int len = snprintf(buf, n, "%s/%s%s%s", root, a, b ? "/" : "", b ? b : "");

	if (len < 0 || (size_t)len >= n)
		return err_xapi(RPC_E_INVALID, "path too long under %s", root);
	return 0;
}

static int fs_sr_config(struct json_object *config, char **root)
{
	struct json_object *p;
	char real[PATH_MAX];
	struct stat st;
	const char *path;

	if (!json_object_object_get_ex(config, "path", &p) || !json_object_is_type(p, json_type_string))
		return err_xapi(RPC_E_INVALID, "device-config needs 'path', an existing directory");
	path = json_object_get_string(p);
	if (path[0] != '/' || strlen(path) >= PATH_MAX - 64)
		return err_xapi(RPC_E_INVALID, "path '%s' is not an absolute path", path);
	if (!realpath(path, real) || stat(real, &st) < 0)
		return err_xapi(RPC_E_INVALID, "path '%s': %m", path);
	if (!S_ISDIR(st.st_mode))
		return err_xapi(RPC_E_INVALID, "path '%s' is not a directory", path);
	if (strlen(real) >= PATH_MAX - 64)
		return err_xapi(RPC_E_INVALID, "path '%s' is too long", real);
	*root = strdup(real);
	return *root ? 0 : err_set(ENOMEM, "out of memory");
}

static bool fs_sr_exists(const char *root)
{
	char doc[PATH_MAX];
	struct stat st;

	return fs_join(doc, sizeof doc, root, FS_DOC, NULL) == 0 &&
	       lstat(doc, &st) == 0 && S_ISREG(st.st_mode);
}

/* images/ may survive from an SR destroyed half-way; reuse it if empty. */
static int fs_make_images(const char *root)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;

	if (fs_join(dir, sizeof dir, root, FS_IMAGES, NULL) < 0)
		return -1;
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST || !(d = opendir(dir)))
		return err_sys("mkdir %s: %m", dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			closedir(d);
			return err_xapi(RPC_E_INVALID, "%s exists and is not empty", dir);
		}
	closedir(d);
	return 0;
}

static int fs_sr_prepare(const char *root)
{
	char lock[PATH_MAX];
	int fd;

	if (fs_sr_exists(root))
		return err_xapi(RPC_E_INVALID, "%s already holds an SR", root);
	if (fs_make_images(root) < 0 || fs_join(lock, sizeof lock, root, FS_LOCK, NULL) < 0)
		return -1;
	fd = lock_acquire(lock, false, true);
	if (fd < 0)
		return -1;
	lock_release(fd);
	return file_sync_parent(lock);
}

static int fs_open(const char *root, struct store **out)
{
	struct fs_store *s = calloc(1, sizeof *s);

	if (!s || !(s->base.root = strdup(root))) {
		free(s);
		return err_set(ENOMEM, "out of memory");
	}
	s->base.ops = &store_file_ops;
	s->lock_fd = -1;
	*out = &s->base;
	return 0;
}

static void fs_close(struct store *st)
{
	struct fs_store *s = (struct fs_store *)st;

	if (!s)
		return;
	lock_release(s->lock_fd);
	free(s->base.root);
	free(s);
}

static int fs_lock(struct store *st)
{
	struct fs_store *s = (struct fs_store *)st;
	char path[PATH_MAX];

	if (fs_join(path, sizeof path, st->root, FS_LOCK, NULL) < 0)
		return -1;
	s->lock_fd = lock_acquire(path, true, false);
	if (s->lock_fd < 0 && errno == ENOENT)
		return err_xapi(RPC_E_SR_NOT_EXIST, "%s", st->root);
	return s->lock_fd < 0 ? -1 : 0;
}

static void fs_unlock(struct store *st)
{
	struct fs_store *s = (struct fs_store *)st;

	lock_release(s->lock_fd);
	s->lock_fd = -1;
}

static int fs_meta_read(struct store *st, char **buf, size_t *len)
{
	char path[PATH_MAX];

	if (fs_join(path, sizeof path, st->root, FS_DOC, NULL) < 0)
		return -1;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return err_xapi(RPC_E_SR_NOT_EXIST, "%s", st->root);
	return file_read_all(path, META_MAX_BYTES, buf, len);
}

static int fs_meta_write(struct store *st, const char *buf, size_t len)
{
	char path[PATH_MAX];

	if (fs_join(path, sizeof path, st->root, FS_DOC, NULL) < 0)
		return -1;
	return file_write_atomic(path, buf, len, 0600);
}

static bool fs_image_name_ok(const char *image)
{
	size_t n = strlen(image), k = strlen(FS_SUFFIX);
	char u[UUID_STR_LEN];

	if (n != UUID_STR_LEN - 1 + k || strcmp(image + n - k, FS_SUFFIX))
		return false;
	memcpy(u, image, UUID_STR_LEN - 1);
	u[UUID_STR_LEN - 1] = '\0';
	return uuid_is_valid(u);
}

static int fs_image_path(struct store *st, const char *image, char *buf, size_t n)
{
	if (!fs_image_name_ok(image))
		return err_corrupt("invalid image name '%.80s' in SR %s", image, st->root);
	return fs_join(buf, n, st->root, FS_IMAGES, image);
}

static int fs_node_alloc(struct store *st, const char *node_uuid, uint64_t vsize,
			 char *image, size_t n)
{
	/* Files grow on demand: nothing to reserve. */
	if (snprintf(image, n, "%s%s", node_uuid, FS_SUFFIX) >= (int)n || !fs_image_name_ok(image))
		return err_set(EINVAL, "bad node uuid '%s'", node_uuid);
	return 0;
}

static int fs_node_remove(struct store *st, const char *image)
{
	char path[PATH_MAX];

	if (fs_image_path(st, image, path, sizeof path) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys("unlink %s: %m", path);
	return file_sync_parent(path);
}

static int fs_image_size(struct store *st, const char *image, uint64_t *bytes)
{
	char path[PATH_MAX];
	struct stat sb;

	if (fs_image_path(st, image, path, sizeof path) < 0)
		return -1;
	if (stat(path, &sb) < 0)
		return err_sys("stat %s: %m", path);
	*bytes = (uint64_t)sb.st_blocks * 512;
	return 0;
}

static int fs_image_list(struct store *st, int (*fn)(const char *, void *), void *arg)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (fs_join(dir, sizeof dir, st->root, FS_IMAGES, NULL) < 0)
		return -1;
	if (!(d = opendir(dir)))
		return err_sys("opendir %s: %m", dir);
	while (rc == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = fn(e->d_name, arg);
	closedir(d);
	return rc;
}

static int fs_space(struct store *st, uint64_t *free_bytes, uint64_t *total_bytes)
{
	struct statvfs v;

	if (statvfs(st->root, &v) < 0)
		return err_sys("statvfs %s: %m", st->root);
	*free_bytes = (uint64_t)v.f_bavail * v.f_frsize;
	*total_bytes = (uint64_t)v.f_blocks * v.f_frsize;
	return 0;
}

/* Removes whatever is left in images/ (only orphans: the caller checked
 * that no volume remains), so a destroyed SR leaves no image behind. */
static int fs_unlink_any(const char *image, void *arg)
{
	const char *dir = arg;
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", dir, image) >= (int)sizeof path)
		return err_set(ENAMETOOLONG, "path too long in %s", dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys("unlink %s: %m", path);
	return 0;
}

static int fs_sr_remove(struct store *st)
{
	char doc[PATH_MAX], dir[PATH_MAX], lock[PATH_MAX];

	if (fs_join(doc, sizeof doc, st->root, FS_DOC, NULL) < 0 ||
	    fs_join(dir, sizeof dir, st->root, FS_IMAGES, NULL) < 0 ||
	    fs_join(lock, sizeof lock, st->root, FS_LOCK, NULL) < 0)
		return -1;
	if (unlink(doc) < 0)
		return err_sys("unlink %s: %m", doc);
	if (file_sync_parent(doc) < 0)
		return -1;
	fault_point("sr-destroy.document-removed");
	if (fs_image_list(st, fs_unlink_any, dir) < 0)
		return -1;
	if (rmdir(dir) < 0 && errno != ENOENT)
		return err_sys("rmdir %s: %m", dir);
	if (unlink(lock) < 0 && errno != ENOENT)
		return err_sys("unlink %s: %m", lock);
	return file_sync_parent(lock);
}

const struct store_ops store_file_ops = {
	.type = "fileqcow",
	.sr_config = fs_sr_config,
	.sr_prepare = fs_sr_prepare,
	.open = fs_open,
	.close = fs_close,
	.sr_exists = fs_sr_exists,
	.sr_remove = fs_sr_remove,
	.lock = fs_lock,
	.unlock = fs_unlock,
	.meta_read = fs_meta_read,
	.meta_write = fs_meta_write,
	.node_alloc = fs_node_alloc,
	.node_remove = fs_node_remove,
	.image_path = fs_image_path,
	.image_size = fs_image_size,
	.image_list = fs_image_list,
	.space = fs_space,
};
