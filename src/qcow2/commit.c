/* commit.c: qcow2_commit, the coalesce primitive: write everything the
 * top image holds into its backing file, leaving the top unchanged.
 *
 * Only the public engine API is used.  The child is opened alone (its own
 * allocation, backing ignored) and walked with qcow2_map; data and
 * compressed runs are copied into the parent in large chunks, and zero
 * runs become zeros in the parent (so the grandparent's old data cannot
 * show through once the child is gone).  The parent is opened writable
 * without its own backing and grown first if the child is larger.
 *
 * Crash safety: the child is never written, so until the caller relinks
 * and deletes it, it still masks the parent and the guest view does not
 * change.  Every parent write is crash-safe in the engine (leaks at
 * worst), and rewriting the same data is harmless, so re-running a killed
 * commit finishes it.  The parent must be qcow2: a raw backing file is
 * refused (the engine has no writable raw images).
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/qcow2.h"
#include "qcow2-int.h"

/* Large enough for sequential throughput, small enough to stay in cache. */
#define COMMIT_CHUNK (4u << 20)
#define COMMIT_MAP_MAX 256

struct commit {
	struct qcow2_image *child, *parent;
	uint64_t size;                  /* child's virtual size */
	uint8_t *buf;
	qcow2_progress_fn progress;
	void *opaque;
};

static int parent_path(const char *child, const struct qcow2_info *info, int flags, char *out,
		       size_t n)
{
	CLEANUP_FREE char *copy = strdup(child);

	if (copy == NULL)
		return err_set(ENOMEM, "out of memory");
	if (info->backing[0] == '\0')
		return err_set(EINVAL, "%s has no backing file to commit into", child);
	if (info->backing_fmt[0] && strcmp(info->backing_fmt, "qcow2"))
		return err_set(ENOTSUP, "%s: cannot commit into a %s backing file", child,
			       info->backing_fmt);
	if (qcow2_backing_name_ok(child, info->backing, flags) < 0)
		return -1;
	if (info->backing[0] == '/')
		snprintf(out, n, "%s", info->backing);
	else if ((size_t)snprintf(out, n, "%s/%s", dirname(copy), info->backing) >= n)
		return err_set(ENAMETOOLONG, "backing file path too long");
	return 0;
}

static int open_pair(struct commit *c, const char *child_path, int flags)
{
	struct qcow2_info info;
	char path[4096 + 1024];

	if (qcow2_open(child_path, QCOW2_OPEN_NO_BACKING, &c->child) < 0 ||
	    qcow2_get_info(c->child, &info) < 0 || parent_path(child_path, &info, flags, path, sizeof path) < 0)
		return -1;
	c->size = info.virtual_size;
	if (qcow2_open(path, QCOW2_OPEN_RDWR | QCOW2_OPEN_NO_BACKING, &c->parent) < 0)
		return -1;
	if (qcow2_get_info(c->parent, &info) < 0)
		return -1;
	if (info.virtual_size < c->size) {
		log_info("commit: growing %s from %llu to %llu bytes", path,
			 (unsigned long long)info.virtual_size, (unsigned long long)c->size);
		fault_point("commit-resize");
		return qcow2_resize(c->parent, c->size);
	}
	return 0;
}

static int copy_run(struct commit *c, uint64_t off, uint64_t len)
{
	while (len > 0) {
		uint64_t n = MIN(len, (uint64_t)COMMIT_CHUNK);
		if (qcow2_pread(c->child, c->buf, n, off) < 0)
			return -1;
		fault_point("commit-write");
		if (qcow2_pwrite(c->parent, c->buf, n, off) < 0)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static int commit_entry(struct commit *c, const struct qcow2_map_entry *e)
{
	switch (e->kind) {
	case QCOW2_MAP_DATA:
	case QCOW2_MAP_COMPRESSED:
		return copy_run(c, e->off, e->len);
	case QCOW2_MAP_ZERO:
		fault_point("commit-zero");
		return qcow2_pzero(c->parent, e->off, e->len, QCOW2_ZERO_MAY_UNMAP);
	default:
		return 0;
	}
}

static int commit_all(struct commit *c)
{
	struct qcow2_map_entry ent[COMMIT_MAP_MAX];
	uint64_t off = 0;

	while (off < c->size) {
		int n = qcow2_map(c->child, off, c->size - off, ent, COMMIT_MAP_MAX);
		if (n <= 0)
			return n < 0 ? -1 : err_set(EIO, "empty map at offset %llu",
						    (unsigned long long)off);
		for (int i = 0; i < n; i++) {
			if (commit_entry(c, &ent[i]) < 0)
				return -1;
			off = ent[i].off + ent[i].len;
			if (c->progress)
				c->progress(off, c->size, c->opaque);
		}
	}
	return 0;
}

int qcow2_commit(const char *child_path, int flags, qcow2_progress_fn progress, void *opaque)
{
	struct commit c = { .progress = progress, .opaque = opaque };
	int rc = -1;

	c.buf = malloc(COMMIT_CHUNK);
	if (c.buf == NULL) {
		err_set(ENOMEM, "out of memory");
		goto out;
	}
	if (open_pair(&c, child_path, flags) < 0 || commit_all(&c) < 0)
		goto out;
	fault_point("commit-flush");
	rc = qcow2_flush(c.parent);
out:
	if (qcow2_close(c.parent) < 0)
		rc = -1;
	qcow2_close(c.child);
	free(c.buf);
	return rc;
}
