/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* open.c: opening images and their backing chains, closing, locking.
 *
 * A writable open refuses what the engine cannot keep consistent
 * (corrupt bit, internal snapshots, extended L2) before touching the
 * file; a dirty image (lazy refcounts) has its refcounts rebuilt before
 * the first write.  Backing images are always read-only.  The chain comes
 * either from the caller (qcow2_open_chain: header names never read) or
 * from the headers (qcow2_open: names relative to the directory of the
 * image naming them, confined to it unless QCOW2_OPEN_ANY_BACKING).
 * Either way it is bounded by QCOW2_MAX_CHAIN_DEPTH, loops (same device
 * and inode) are refused, and only regular files and block devices are
 * opened (a FIFO fails at once).
 */
#include <assert.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "qcow2-int.h"

/* The files above the one being opened, to refuse loops. */
struct chain_seen {
	dev_t dev;
	ino_t ino;
	const struct chain_seen *up;
};

static struct qcow2_image *img_new(const char *path)
{
	struct qcow2_image *img = calloc(1, sizeof *img);
	pthread_rwlockattr_t a;

	if (!img || !(img->path = strdup(path))) {
		free(img);
		err_set(ENOMEM, "out of memory");
		return NULL;
	}
	img->fd = -1;
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&img->io, &a);
	pthread_rwlockattr_destroy(&a);
	pthread_mutex_init(&img->lock, NULL);
	img->depth = 1;
	return img;
}

static void img_free(struct qcow2_image *img)
{
	if (!img)
		return;
	if (img->backing)
		qcow2_close(img->backing);
	qcow2_scan_unmap(img);
	if (img->fd >= 0) {
		close(img->fd);
		dio_destroy(&img->dio);
	}
	qcow2_cache_free(&img->l2c);
	qcow2_cache_free(&img->rbc);
	qcow2_header_free(&img->h);
	pthread_rwlock_destroy(&img->io);
	pthread_mutex_destroy(&img->lock);
	free(img->l1);
	free(img->reftable);
	free(img->frees);
	free(img->meta);
	free(img->path);
	free(img);
}

static int read_header(struct qcow2_image *img)
{
	uint64_t fsize = qcow2_io_size(img->fd), len;
	uint8_t fixed[QCOW2_V2_HEADER_LEN];
	CLEANUP_FREE uint8_t *buf = NULL;
	uint32_t bits;

	if (fsize < sizeof fixed)
		return err_corrupt("%s: too small for a qcow2 image", img->path);
	if (qcow2_img_read(img, fixed, sizeof fixed, 0) < 0)
		return -1;
	bits = be32_get(fixed + 20);
	if (bits < QCOW2_MIN_CLUSTER_BITS || bits > QCOW2_MAX_CLUSTER_BITS)
		bits = QCOW2_MIN_CLUSTER_BITS; /* decode reports it */
	len = MIN(fsize, 1ull << bits);
	buf = malloc(len);
	if (!buf)
		return err_set(ENOMEM, "out of memory");
	if (qcow2_img_read(img, buf, len, 0) < 0)
		return -1;
	return qcow2_header_decode(buf, len, fsize, &img->h);
}

static void derive_geometry(struct qcow2_image *img)
{
	img->cbits = img->h.cluster_bits;
	img->cs = 1u << img->cbits;
	img->extl2 = img->h.incompatible_features & QCOW2_INCOMPAT_EXTL2;
	img->l2e_size = img->extl2 ? 16 : 8;
	img->l2_bits = img->cbits - (img->extl2 ? 4 : 3);
	img->l2_entries = 1ull << img->l2_bits;
	img->csize_shift = 62 - (img->cbits - 8);
	img->csize_mask = (1ull << (img->cbits - 8)) - 1;
	img->coff_mask = (1ull << img->csize_shift) - 1;
}

static int load_l1(struct qcow2_image *img)
{
	uint64_t n = img->h.l1_size;
	CLEANUP_FREE uint8_t *raw = malloc(n * 8 + 1);

	img->l1 = malloc(n * 8 + 1);
	if (!raw || !img->l1)
		return err_set(ENOMEM, "out of memory");
	if (n && qcow2_img_read(img, raw, n * 8, img->h.l1_table_offset) < 0)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		img->l1[i] = be64_get(raw + i * 8);
	return 0;
}

/* Enough L2 tables to map up to 32 MiB of them (all of a 256 GiB disk
 * at 64 KiB clusters), and never more than the image has. */
static int init_caches(struct qcow2_image *img)
{
	uint64_t n = MIN((uint64_t)img->h.l1_size, (32u << 20) >> img->cbits);

	n = MAX(n, 4);
	if (qcow2_cache_init(&img->l2c, (int)n, img->cs) < 0)
		return -1;
	return qcow2_cache_init(&img->rbc, (int)MAX(4, MIN(64, (4u << 20) >> img->cbits)), img->cs);
}

static int check_writable(struct qcow2_image *img)
{
	if (img->h.incompatible_features & QCOW2_INCOMPAT_CORRUPT)
		return err_set(EROFS, "%s: image is marked corrupt; repair it first", img->path);
	if (img->h.nb_snapshots)
		return err_set(ENOTSUP, "%s: images with internal snapshots open read-only", img->path);
	if (img->extl2)
		return err_set(ENOTSUP, "%s: images with extended L2 entries open read-only", img->path);
	return 0;
}

/* Clear autoclear bits (nothing here maintains bitmaps) before writing. */
static int prepare_write(struct qcow2_image *img)
{
	struct qcow2_header nh;
	int r;

	img->need_rebuild = img->h.incompatible_features & QCOW2_INCOMPAT_DIRTY;
	if (!img->h.autoclear_features)
		return 0;
	if (qcow2_header_copy(&nh, &img->h) < 0)
		return -1;
	nh.autoclear_features = 0;
	r = qcow2_header_write(img, &nh);
	qcow2_header_free(&nh);
	img->h.autoclear_features = 0;
	return r;
}

/* How a file is to be read: its format, and whether its name came from a
 * header (then a symbolic link as the last component is refused). */
enum open_fmt { FMT_QCOW2, FMT_RAW, FMT_PROBE };

static int open_fd(struct qcow2_image *img, bool rw, bool from_header, bool direct)
{
	img->fd = qcow2_io_open(img->path, rw, from_header, direct);
	if (img->fd < 0)
		return -1;
	dio_init(&img->dio, img->fd);
	img->rw = rw;
	return 0;
}

static int open_qcow2(struct qcow2_image *img, int flags)
{
	bool rw = flags & QCOW2_OPEN_RDWR;

	if (read_header(img) < 0)
		return -1;
	derive_geometry(img);
	if (rw && check_writable(img) < 0)
		return -1;
	if (load_l1(img) < 0 || qcow2_refcount_load(img) < 0 || init_caches(img) < 0)
		return -1;
	return rw ? prepare_write(img) : 0;
}

static int open_raw(struct qcow2_image *img)
{
	img->raw = true;
	img->raw_size = qcow2_io_size(img->fd);
	return 0;
}

/* A backing file named without a format is qcow2 if it has the magic. */
static bool is_qcow2(struct qcow2_image *img)
{
	uint8_t m[4];

	return qcow2_img_read(img, m, 4, 0) == 0 && be32_get(m) == QCOW2_MAGIC;
}

static int check_chain(int fd, const char *path, int depth, const struct chain_seen *up,
		       struct chain_seen *me)
{
	struct stat st;

	if (depth > QCOW2_MAX_CHAIN_DEPTH)
		return err_set(ELOOP, "%s: backing chain deeper than %d", path, QCOW2_MAX_CHAIN_DEPTH);
	if (fstat(fd, &st) < 0)
		return err_sys("fstat %s: %m", path);
	for (const struct chain_seen *s = up; s; s = s->up)
		if (s->dev == st.st_dev && s->ino == st.st_ino)
			return err_set(ELOOP, "%s: backing chain loops", path);
	*me = (struct chain_seen){ st.st_dev, st.st_ino, up };
	return 0;
}

/* Open one member of a chain, without its backing file.  Only the top
 * one (depth 1) may be writable. */
static int open_one(const char *path, enum open_fmt fmt, int flags, bool from_header,
		    int depth, const struct chain_seen *up, struct chain_seen *me,
		    struct qcow2_image **out)
{
	struct qcow2_image *img = img_new(path);
	bool rw = (flags & QCOW2_OPEN_RDWR) && fmt != FMT_RAW;

	assert(depth == 1 || !rw);
	*out = NULL;
	if (!img)
		return -1;
	if (open_fd(img, rw, from_header, flags & QCOW2_OPEN_DIRECT) < 0 ||
	    check_chain(img->fd, path, depth, up, me) < 0)
		goto fail;
	if (fmt == FMT_PROBE)
		fmt = is_qcow2(img) ? FMT_QCOW2 : FMT_RAW;
	if ((fmt == FMT_RAW ? open_raw(img) : open_qcow2(img, flags)) < 0)
		goto fail;
	*out = img;
	return 0;
fail:
	img->rw = false;
	img_free(img);
	return -1;
}

/* ---- backing files named by headers ---- */

static bool has_dotdot(const char *name)
{
	for (const char *c = name; *c; c += strcspn(c, "/"), c += *c == '/')
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			return true;
	return false;
}

/* Without QCOW2_OPEN_ANY_BACKING a header may only name a file in the
 * directory of the image or below it: an absolute name or a ".."
 * component could reach any file of the host. */
int qcow2_backing_name_ok(const char *path, const char *n, int flags)
{
	if (flags & QCOW2_OPEN_ANY_BACKING)
		return 0;
	if (n[0] == '/')
		return err_set(EPERM, "%s: absolute backing file name '%s' refused", path, n);
	if (has_dotdot(n))
		return err_set(EPERM, "%s: backing file name '%s' leaves its directory", path, n);
	return 0;
}

static int check_backing_name(const struct qcow2_image *img, int flags)
{
	return qcow2_backing_name_ok(img->path, img->h.backing_file, flags);
}

static int backing_path(const struct qcow2_image *img, char *out, size_t n)
{
	const char *name = img->h.backing_file;
	CLEANUP_FREE char *copy = strdup(img->path);

	if (!copy)
		return err_set(ENOMEM, "out of memory");
	if (name[0] == '/')
		snprintf(out, n, "%s", name);
	else if ((size_t)snprintf(out, n, "%s/%s", dirname(copy), name) >= n)
		return err_set(ENAMETOOLONG, "backing file path too long");
	return 0;
}

static int header_fmt(const struct qcow2_image *img, enum open_fmt *fmt)
{
	const char *f = img->h.backing_fmt;

	if (!f[0])
		*fmt = FMT_PROBE;
	else if (!strcmp(f, "qcow2"))
		*fmt = FMT_QCOW2;
	else if (!strcmp(f, "raw"))
		*fmt = FMT_RAW;
	else
		return err_set(ENOTSUP, "%s: unsupported backing format '%s'", img->path, f);
	return 0;
}

/* Follow the backing names of the headers, recursively. */
static int open_header_backing(struct qcow2_image *img, int flags, int depth,
			       const struct chain_seen *me)
{
	char path[4096 + 1024];
	struct chain_seen below;
	enum open_fmt fmt = FMT_PROBE;

	if (img->raw || !img->h.backing_file[0])
		return 0;
	if (check_backing_name(img, flags) < 0 || backing_path(img, path, sizeof path) < 0 ||
	    header_fmt(img, &fmt) < 0)
		return -1;
	if (open_one(path, fmt, flags & QCOW2_OPEN_DIRECT, true, depth + 1, me, &below, &img->backing) < 0 ||
	    open_header_backing(img->backing, flags, depth + 1, &below) < 0)
		return -1;
	img->depth = 1 + img->backing->depth;
	return 0;
}

int qcow2_open(const char *path, int flags, struct qcow2_image **out)
{
	struct chain_seen me;

	if (open_one(path, FMT_QCOW2, flags, false, 1, NULL, &me, out) < 0)
		return -1;
	if (flags & QCOW2_OPEN_NO_BACKING || open_header_backing(*out, flags, 1, &me) == 0)
		return 0;
	(*out)->rw = false;
	img_free(*out);
	*out = NULL;
	return -1;
}

/* ---- backing chains given by the caller ---- */

/* The caller's chain must agree with the headers on where it ends, or
 * reads would silently differ from what the images mean. */
static int check_chain_shape(const struct qcow2_image *img, size_t n)
{
	bool named = !img->raw && img->h.backing_file[0];

	if (img->raw && n)
		return err_set(EINVAL, "%s: a raw image has no backing file", img->path);
	if (named && !n)
		return err_set(EINVAL, "%s: the image has a backing file but the chain ends here",
			       img->path);
	if (!named && n && !img->raw)
		return err_set(EINVAL, "%s: the image has no backing file but the chain goes on",
			       img->path);
	return 0;
}

static int attach_chain(struct qcow2_image *img, const struct qcow2_backing *chain, size_t n,
			int flags, int depth, const struct chain_seen *me)
{
	struct chain_seen below;

	if (check_chain_shape(img, n) < 0)
		return -1;
	if (!n)
		return 0;
	if (!chain[0].path)
		return err_set(EINVAL, "backing chain member %d has no path", depth);
	if (open_one(chain[0].path, chain[0].raw ? FMT_RAW : FMT_QCOW2, flags & QCOW2_OPEN_DIRECT,
		     false, depth + 1, me, &below, &img->backing) < 0 ||
	    attach_chain(img->backing, chain + 1, n - 1, flags, depth + 1, &below) < 0)
		return -1;
	img->depth = 1 + img->backing->depth;
	return 0;
}

int qcow2_open_chain(const char *path, const struct qcow2_backing *chain, size_t n, int flags,
		     struct qcow2_image **out)
{
	struct chain_seen me;

	*out = NULL;
	if (n && !chain)
		return err_set(EINVAL, "backing chain of %zu members given as NULL", n);
	if (n >= QCOW2_MAX_CHAIN_DEPTH)
		return err_set(ELOOP, "%s: backing chain deeper than %d", path,
			       QCOW2_MAX_CHAIN_DEPTH);
	if (open_one(path, FMT_QCOW2, flags, false, 1, NULL, &me, out) < 0)
		return -1;
	if (attach_chain(*out, chain, n, flags, 1, &me) == 0)
		return 0;
	(*out)->rw = false;
	img_free(*out);
	*out = NULL;
	return -1;
}

int qcow2_close(struct qcow2_image *img)
{
	int r = 0;

	if (!img)
		return 0;
	if (img->rw) {
		pthread_mutex_lock(&img->lock);
		r = qcow2_flush_locked(img);
		pthread_mutex_unlock(&img->lock);
	}
	img_free(img);
	return r;
}

uint64_t qcow2_vsize(const struct qcow2_image *img)
{
	return img->raw ? img->raw_size : img->h.size;
}

uint64_t qcow2_virtual_size(const struct qcow2_image *img)
{
	return qcow2_vsize(img);
}

uint32_t qcow2_cluster_size(const struct qcow2_image *img)
{
	return img->raw ? 0 : img->cs;
}

int qcow2_version(const struct qcow2_image *img)
{
	return img->raw ? 0 : (int)img->h.version;
}

void qcow2_lock_shared(struct qcow2_image *img)
{
	pthread_rwlock_rdlock(&img->io);
	pthread_mutex_lock(&img->lock);
}

void qcow2_lock_excl(struct qcow2_image *img)
{
	pthread_rwlock_wrlock(&img->io);
	pthread_mutex_lock(&img->lock);
}

void qcow2_unlock(struct qcow2_image *img)
{
	pthread_mutex_unlock(&img->lock);
	pthread_rwlock_unlock(&img->io);
}

int qcow2_check_range(const struct qcow2_image *img, uint64_t off, uint64_t len)
{
	uint64_t end;

	if (ADD_OVERFLOW(off, len, &end) || end > qcow2_vsize(img))
		return err_set(EINVAL, "request [%llu, +%llu) beyond the virtual size %llu",
			       (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)qcow2_vsize(img));
	return 0;
}
