/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* commit.c: qcow2_commit, the admin CLI's commit: write everything the
 * top image holds into the backing file its header names, leaving the
 * top unchanged.  The copy is qcow2_merge (merge.c); this file finds and
 * opens the pair.  The parent is opened writable on its own backing
 * chain, as qcow2_merge wants: a partial cluster written into it copies
 * the rest from below, and growing it zeroes only what the grandparent
 * could show.
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

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/qcow2.h"
#include "qcow2-int.h"

struct commit {
	struct qcow2_image *child, *parent;
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
	    qcow2_get_info(c->child, &info) < 0 ||
	    parent_path(child_path, &info, flags, path, sizeof path) < 0)
		return -1;
	return qcow2_open(path, QCOW2_OPEN_RDWR | (flags & QCOW2_OPEN_ANY_BACKING), &c->parent);
}

int qcow2_commit(const char *child_path, int flags, qcow2_progress_fn progress, void *opaque)
{
	struct commit c = { NULL, NULL };
	int rc = -1;

	if (open_pair(&c, child_path, flags) == 0)
		rc = qcow2_merge(c.child, c.parent, 0, progress, opaque, NULL);
	if (qcow2_close(c.parent) < 0)
		rc = -1;
	qcow2_close(c.child);
	return rc;
}
