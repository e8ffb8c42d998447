/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-int.h: private state shared by the check*.c files.
 *
 * The checker works on the raw file, not on an open struct qcow2_image: it
 * must cope with images the engine refuses, and it classifies findings the
 * way qemu-img check does (see docs/qcow2-ops.md).  It builds, in memory,
 * the number of references to every host cluster (the "refs" array) and
 * compares it with the refcounts stored in the image ("stored").
 *
 * Clusters are indexed by host offset >> cluster_bits.  The dense arrays
 * cover the file plus a slack; references further out (hostile offsets)
 * are kept as a list ("far") so a flipped high bit cannot make the checker
 * allocate terabytes.
 */
#ifndef LQ_QCOW2_CHECK_INT_H
#define LQ_QCOW2_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lq/qcow2.h"
#include "qcow2-int.h"

/* stored[] value for a cluster whose refcount cannot be read (unaligned
 * refcount block): qemu counts a check error for it. */
#define CHK_STORED_ERR UINT32_MAX
#define CHK_STORED_MAX (UINT32_MAX - 1)
/* Largest read the checker issues: tables are read in runs up to this. */
#define CHK_IO_CHUNK (4u << 20)

struct chk {
	int fd;
	int flags;                       /* QCOW2_REPAIR_* */
	bool growable;                   /* a file, not a block device */
	uint64_t file_size;
	struct qcow2_header h;
	struct qcow2_check_result *res;

	uint32_t cbits;
	uint64_t cs;
	uint64_t l2_entries;             /* entries per L2 table */
	unsigned l2e_size;               /* 8, or 16 with extended L2 */
	bool extl2;
	uint64_t rb_entries;             /* refcounts per refcount block */
	uint64_t refcount_max;           /* largest refcount the width holds */
	uint64_t csize_shift, csize_mask, coff_mask;  /* compressed descriptors */

	uint64_t *l1;                    /* active L1, host order */

	uint32_t *refs;                  /* references per cluster, dense */
	uint64_t nrefs;                  /* used length of refs */
	uint64_t refs_cap;               /* allocated length of refs */
	uint64_t dense_limit;            /* beyond this, references go to far */
	uint64_t *far;                   /* far cluster indexes, one per reference */
	size_t nfar, far_cap;

	uint64_t *reftable;              /* host order */
	uint64_t reftable_n;
	uint32_t *stored;                /* stored refcounts of [0, nstored) */
	uint64_t nstored;
	uint64_t cached_rb_off;          /* one refcount block kept for far lookups */
	uint8_t *cached_rb;

	uint32_t *target;                /* repair: refcounts to write, per cluster */
	uint64_t ntarget;
	uint64_t old_rt_off;             /* repair: structures being replaced */
	uint64_t old_rt_clusters;

	bool has_bitmaps;                /* a consistent bitmaps extension */
	uint32_t bm_nb;
	uint64_t bm_dir_size, bm_dir_off;

	uint64_t snapshots_size;         /* bytes of the snapshot table */
	bool rebuild;                    /* refcount structure itself is broken */
};

/* check-header.c: decode and validate as qemu's open does for a check. */
int chk_header_decode(struct chk *c, const uint8_t *b, uint64_t len);

/* check-io.c */
/* Read len bytes at off; beyond the end of the file reads zeros.  Failure
 * (I/O error, offset out of range) records an error and returns -1. */
int chk_read(struct chk *c, void *buf, size_t len, uint64_t off);
/* Read many cluster-sized tables (offsets need not be sorted or aligned):
 * adjacent ones are read together in runs up to CHK_IO_CHUNK, then fn is
 * called for each table, in offset order, with its bytes and its tag. */
struct chk_table {
	uint64_t off;
	uint64_t tag;
};
typedef int (*chk_table_fn)(struct chk *c, const uint8_t *tbl, uint64_t tag, void *opaque);
int chk_read_tables(struct chk *c, struct chk_table *t, size_t n, size_t size,
		    chk_table_fn fn, void *opaque);
void chk_warn(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* check-refs.c: the computed references. */
int chk_refs_init(struct chk *c);
/* One reference to every cluster touched by [off, off+len). */
int chk_ref_range(struct chk *c, uint64_t off, uint64_t len);
uint64_t chk_refs_get(const struct chk *c, uint64_t cluster);
/* Sort the far list (after the walk, before comparing). */
void chk_far_sort(struct chk *c);
/* Number of references in the far list to cluster. */
uint64_t chk_far_count(const struct chk *c, uint64_t cluster);

/* check-stored.c: the refcounts stored in the image. */
int chk_stored_load(struct chk *c, uint64_t n);
/* Stored refcount of cluster; -1 (recorded) if it cannot be read. */
int chk_stored_get(struct chk *c, uint64_t cluster, uint64_t *val);
uint64_t chk_refblock_get(const struct chk *c, const uint8_t *rb, uint64_t i);
void chk_refblock_set(const struct chk *c, uint8_t *rb, uint64_t i, uint64_t v);

/* check-l1l2.c: L1/L2 walks (active with statistics, snapshots without). */
int chk_walk_l1(struct chk *c, const uint64_t *l1, uint32_t l1_size, bool active);
int chk_read_l1(struct chk *c, uint64_t off, uint32_t n, uint64_t **out);

/* check-meta.c: the other referencing structures. */
int chk_walk_snapshots(struct chk *c);
int chk_walk_bitmaps(struct chk *c);
int chk_walk_refblocks(struct chk *c);

/* check-compare.c */
int chk_compare(struct chk *c);

/* check-repair.c */
/* Write new refcount structures matching the references (as far as the
 * repair flags allow) and switch the header to them. */
int chk_repair_refcounts(struct chk *c);
/* Fix COPIED flags of the active L1/L2 against the (new) refcounts. */
int chk_repair_copied(struct chk *c);
int chk_mark_consistent(struct chk *c);

#endif
