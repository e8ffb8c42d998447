/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/gc-claim: the collector's claim on a writable leaf it coalesces.
 *
 * While it copies into or out of a volume's leaf, the collector holds an
 * exclusive flock on <rundir>/sr/<uuid>/gc-claim/<key>.  A call that is
 * about to let something else use that leaf (Datapath.attach, resize)
 * runs ops_gc_yield under the SR lock: it unlinks the file, which tells
 * the collector to stop, and waits (bounded) for the flock, which the
 * collector drops as soon as it no longer touches the leaf.  Before it
 * switches the metadata the collector checks that its file is still
 * linked; if not, the work is abandoned (it changed no guest view). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/lock.h"
#include "lq/log.h"
#include "gc-int.h"
#include "ops-int.h"

/* How long a yielding call waits for the collector to let go. */
#define GC_YIELD_MS 30000

static int claim_path(struct ops_sr *sr, const char *key, char *buf, size_t n)
{
	char dir[PATH_MAX];

	if (!uuid_is_valid(key))
		return err_set(EINVAL, "unexpected volume key %.64s", key);
	if (ops_sr_runtime_dir(sr, dir, sizeof dir) < 0)
		return -1;
	if ((size_t)snprintf(buf, n, "%s/gc-claim", dir) >= n)
		return err_set(ENAMETOOLONG, "runtime path too long under %s", dir);
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return err_sys("mkdir %s: %m", buf);
	if ((size_t)snprintf(buf, n, "%s/gc-claim/%s", dir, key) >= n)
		return err_set(ENAMETOOLONG, "runtime path too long under %s", dir);
	return 0;
}

int gc_claim_take(struct ops_sr *sr, const char *key, struct gc_claim *c)
{
	c->fd = -1;
	if (claim_path(sr, key, c->path, sizeof c->path) < 0)
		return -1;
	c->fd = open(c->path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c->fd < 0)
		return err_sys("open %s: %m", c->path);
	if (flock(c->fd, LOCK_EX | LOCK_NB) < 0) {
		gc_claim_drop(c);
		return err_set(EBUSY, "volume %s is claimed by another collector", key);
	}
	return 0;
}

void gc_claim_unlock(struct gc_claim *c)
{
	if (c->fd >= 0)
		flock(c->fd, LOCK_UN);
}

bool gc_claim_cancelled(const struct gc_claim *c)
{
	struct stat sb;

	return c->fd >= 0 && (fstat(c->fd, &sb) < 0 || sb.st_nlink == 0);
}

/* Only the holder unlinks its own file, and only if not cancelled (then
 * the yielding call already did). */
void gc_claim_drop(struct gc_claim *c)
{
	if (c->fd < 0)
		return;
	if (!gc_claim_cancelled(c))
		unlink(c->path);
	close(c->fd);
	c->fd = -1;
}

int ops_gc_yield(struct ops_sr *sr, const char *key)
{
	char path[PATH_MAX], what[PATH_MAX + 32];
	int fd, rc;

	if (claim_path(sr, key, path, sizeof path) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_sys("open %s: %m", path);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("gc: unlink %s: %m", path);
	snprintf(what, sizeof what, "the collector's claim on volume %s", key);
	rc = lock_wait(fd, true, GC_YIELD_MS, what);
	close(fd);
	if (rc == 0)
		log_info("SR %s: the collector let go of volume %s", sr->sr, key);
	return rc;
}
