/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* merge.c: qcow2_merge, the coalesce primitive behind qcow2_commit and
 * the garbage collector: copy what one image holds on its own into
 * another, in either direction of a parent-child pair.
 *
 * `from` is walked alone with qcow2_map (its backing never matters):
 * data and compressed runs are copied in large chunks, zero runs become
 * zeros (so what lies below cannot show through once `from` is gone).
 * Normally every run is applied, so `from` wins: a child committed into
 * its parent.  With QCOW2_MERGE_UNDER a run is applied only where `into`
 * has nothing of its own, so `into` wins: a parent streamed into its
 * child.  Either way every chain that reads through both images sees the
 * same bytes before, during and after the merge, which is what makes it
 * safe to run while the pair is being read, to interrupt and to rerun.
 *
 * The caller opens `into` writable with its real backing chain, so that a
 * write of part of a cluster copies the rest from below, and `from`
 * alone.  QCOW2_MERGE_DRY_RUN writes nothing and only counts the bytes a
 * merge would copy, which is how a caller picks the cheaper direction.
 */
#include <stdlib.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/qcow2.h"
#include "qcow2-int.h"

/* Large enough for sequential throughput, small enough to stay in cache. */
#define MERGE_CHUNK (4u << 20)
#define MERGE_MAP_MAX 256

struct merge {
	struct qcow2_image *from, *into;
	int flags;
	uint64_t size;              /* the range walked */
	uint8_t *buf;
	uint64_t bytes;             /* data bytes copied (or counted) */
	qcow2_progress_fn progress;
	void *opaque;
};

/* Progress after every chunk, so that a stop request is seen soon. */
static int merge_tick(struct merge *m, uint64_t off)
{
	if (m->progress && m->progress(off, m->size, m->opaque))
		return err_set(ECANCELED, "merge stopped at offset %llu of %llu",
			       (unsigned long long)off, (unsigned long long)m->size);
	return 0;
}

static int merge_copy(struct merge *m, uint64_t off, uint64_t len)
{
	while (len > 0) {
		uint64_t n = MIN(len, (uint64_t)MERGE_CHUNK);
		if (qcow2_pread(m->from, m->buf, n, off) < 0)
			return -1;
		fault_point("commit-write");
		if (qcow2_pwrite(m->into, m->buf, n, off) < 0)
			return -1;
		off += n;
		len -= n;
		if (merge_tick(m, off) < 0)
			return -1;
	}
	return 0;
}

static int merge_apply(struct merge *m, uint64_t off, uint64_t len, enum qcow2_map_kind kind)
{
	bool dry = m->flags & QCOW2_MERGE_DRY_RUN;

	switch (kind) {
	case QCOW2_MAP_DATA:
	case QCOW2_MAP_COMPRESSED:
		m->bytes += len;
		return dry ? 0 : merge_copy(m, off, len);
	case QCOW2_MAP_ZERO:
		if (dry)
			return 0;
		fault_point("commit-zero");
		return qcow2_pzero(m->into, off, len, QCOW2_ZERO_MAY_UNMAP);
	default:
		return 0;
	}
}

static int map_some(struct qcow2_image *img, uint64_t off, uint64_t len,
		    struct qcow2_map_entry *ent)
{
	int n = qcow2_map(img, off, len, ent, MERGE_MAP_MAX);

	if (n == 0)
		return err_set(EIO, "empty map at offset %llu", (unsigned long long)off);
	return n;
}

/* The parts of a run of `from` where `into` has nothing of its own. */
static int merge_under(struct merge *m, const struct qcow2_map_entry *e)
{
	struct qcow2_map_entry ent[MERGE_MAP_MAX];
	uint64_t off = e->off, end = e->off + e->len;

	while (off < end) {
		int n = map_some(m->into, off, end - off, ent);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			if (ent[i].kind == QCOW2_MAP_UNALLOCATED &&
			    merge_apply(m, ent[i].off, ent[i].len, e->kind) < 0)
				return -1;
			off = ent[i].off + ent[i].len;
		}
	}
	return 0;
}

static int merge_entry(struct merge *m, const struct qcow2_map_entry *e)
{
	if (e->kind == QCOW2_MAP_UNALLOCATED)
		return 0;
	if (m->flags & QCOW2_MERGE_UNDER)
		return merge_under(m, e);
	return merge_apply(m, e->off, e->len, e->kind);
}

static int merge_all(struct merge *m)
{
	struct qcow2_map_entry ent[MERGE_MAP_MAX];
	uint64_t off = 0;

	while (off < m->size) {
		int n = map_some(m->from, off, m->size - off, ent);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			if (merge_entry(m, &ent[i]) < 0)
				return -1;
			off = ent[i].off + ent[i].len;
			if (merge_tick(m, off) < 0)
				return -1;
		}
	}
	return 0;
}

/* Beyond its old end `into` read zeros, and so did `from` where it has
 * nothing of its own.  qcow2_resize keeps it so: the grown range reads
 * zeros even where the backing file is longer, in one step as far as a
 * crash can tell (zero entries first, the size last), so a merge killed
 * here and run again never lets the grandparent show through there. */
static int merge_grow(struct merge *m, uint64_t size)
{
	fault_point("commit-resize");
	return qcow2_resize(m->into, size);
}

/* Normally `into` grows to hold all of `from`; under it, what lies past
 * `into`'s end is invisible through it and is not copied. */
static int merge_size(struct merge *m)
{
	uint64_t from = qcow2_virtual_size(m->from), into = qcow2_virtual_size(m->into);

	m->size = from;
	if (m->flags & QCOW2_MERGE_UNDER) {
		m->size = MIN(from, into);
		return 0;
	}
	if (into >= from || (m->flags & QCOW2_MERGE_DRY_RUN))
		return 0;
	log_info("merge: growing the target from %llu to %llu bytes", (unsigned long long)into,
		 (unsigned long long)from);
	return merge_grow(m, from);
}

int qcow2_merge(struct qcow2_image *from, struct qcow2_image *into, int flags,
		qcow2_progress_fn progress, void *opaque, uint64_t *bytes)
{
	struct merge m = { from, into, flags, 0, NULL, 0, progress, opaque };
	int rc = -1;

	if (!(flags & QCOW2_MERGE_DRY_RUN) && !(m.buf = dio_alloc(MERGE_CHUNK)))
		return err_set(ENOMEM, "out of memory");
	if (merge_size(&m) == 0 && merge_all(&m) == 0) {
		fault_point("commit-flush");
		rc = (flags & QCOW2_MERGE_DRY_RUN) ? 0 : qcow2_flush(into);
	}
	free(m.buf);
	if (rc == 0 && bytes)
		*bytes = m.bytes;
	return rc;
}
