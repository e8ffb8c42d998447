/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2: the native qcow2 engine.
 *
 * Owns everything about the on-disk format: opening and validating images
 * (every byte is hostile), backing chains, guest reads and writes with
 * copy-on-write, cluster allocation and refcounts, the XCP-ng hidden flag,
 * the plugin's queries, measure, resize, rebase, commit, check and repair.
 * It works on paths and file descriptors and knows nothing of LVM, JSON or
 * XML.  Failures are recorded with err_set() (lq/err.h) and return -1.
 *
 * Thread safety: every function taking a struct qcow2_image may be called
 * from several threads at once on the same handle (the NBD server does);
 * guest reads of allocated data proceed in parallel.
 */
#ifndef LQ_QCOW2_H
#define LQ_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qcow2_image;

/* Largest virtual size the engine creates or grows to: 16 TiB. */
#define QCOW2_MAX_VIRTUAL_SIZE (UINT64_C(16) << 40)
#define QCOW2_DEFAULT_CLUSTER_SIZE (64 * 1024)
#define QCOW2_MAX_CHAIN_DEPTH 64

struct qcow2_create_opts {
	uint64_t size;              /* virtual size, rounded up to 512 bytes */
	uint32_t cluster_size;      /* 0: 64 KiB */
	int compat;                 /* 2 (0.10) or 3 (1.1); 0: 3 */
	int refcount_bits;          /* 0: 16 */
	const char *backing;        /* NULL: none; stored verbatim */
	const char *backing_fmt;    /* "qcow2", "raw" or NULL */
	bool hidden;                /* write the hidden-flag extension set */
};

/* Create an image at path (O_EXCL) or on an existing file/block device. */
int qcow2_create(const char *path, const struct qcow2_create_opts *o);
int qcow2_create_fd(int fd, const struct qcow2_create_opts *o);

enum {
	QCOW2_OPEN_RDWR = 1 << 0,       /* top image writable (chain stays read-only) */
	QCOW2_OPEN_NO_BACKING = 1 << 1, /* do not open the backing chain */
	QCOW2_OPEN_DIRECT = 1 << 2,     /* O_DIRECT data I/O where possible */
	/* qcow2_open only, for the admin CLI on images an operator names:
	 * also follow absolute and ".." backing names found in headers. */
	QCOW2_OPEN_ANY_BACKING = 1 << 3,
};

/* Open an image and the backing chain its headers name.  A header may
 * only name a file in the directory of the image naming it (or below):
 * absolute names and ".." components fail with EPERM unless
 * QCOW2_OPEN_ANY_BACKING.  Only regular files and block devices open; a
 * FIFO, socket or directory fails at once (EINVAL), never blocks; a name
 * from a header may not be a symbolic link. */
int qcow2_open(const char *path, int flags, struct qcow2_image **out);

/* One member of a backing chain given by the caller. */
struct qcow2_backing {
	const char *path;
	bool raw;                    /* raw data, else qcow2 */
};
/* Open the qcow2 image at path on exactly the chain the caller names:
 * chain[0] backs path, chain[1] backs chain[0], ... (n members, n == 0:
 * none).  The backing names and formats in the headers are never
 * followed; each qcow2 member's header must agree that a backing file
 * exists exactly when the chain goes on below it (EINVAL otherwise), and
 * a raw member must be the last.  Backing members open read-only; flags
 * as for qcow2_open (QCOW2_OPEN_NO_BACKING and QCOW2_OPEN_ANY_BACKING
 * are ignored).  The same file checks as qcow2_open apply, except that
 * the caller's paths may be symbolic links (LVM device names are). */
int qcow2_open_chain(const char *path, const struct qcow2_backing *chain, size_t n, int flags,
		     struct qcow2_image **out);
/* Flushes a writable image; returns -1 if that flush failed. */
int qcow2_close(struct qcow2_image *img);

/* Guest view: reads see through the backing chain; beyond a shorter
 * backing file reads are zeros.  Writes copy-on-write partial clusters. */
int qcow2_pread(struct qcow2_image *img, void *buf, uint64_t len, uint64_t off);
int qcow2_pwrite(struct qcow2_image *img, const void *buf, uint64_t len, uint64_t off);
enum { QCOW2_ZERO_MAY_UNMAP = 1 << 0 };
int qcow2_pzero(struct qcow2_image *img, uint64_t off, uint64_t len, int flags);
int qcow2_discard(struct qcow2_image *img, uint64_t off, uint64_t len);
int qcow2_flush(struct qcow2_image *img);
/* fdatasync of the image file without taking the image's lock: the data
 * written so far reaches the disk while I/O goes on, so that a flush that
 * follows (which holds the lock and so stalls I/O) has little left.  No
 * metadata is written: this is not a flush. */
int qcow2_sync_data(struct qcow2_image *img);

/* Allocation status of the guest view, for NBD base:allocation. */
enum { QCOW2_EXT_HOLE = 1 << 0, QCOW2_EXT_ZERO = 1 << 1 };
struct qcow2_extent {
	uint64_t off, len;
	unsigned flags;              /* QCOW2_EXT_* */
};
/* Fills up to max extents describing [off, off+len); returns the number
 * filled (>= 1 when len > 0) or -1. */
int qcow2_block_status(struct qcow2_image *img, uint64_t off, uint64_t len,
		       struct qcow2_extent *ext, int max);

/* Allocation of this image alone (backing chain ignored), for map,
 * allocated, bitmap and commit.  Entries are merged runs of one kind. */
enum qcow2_map_kind {
	QCOW2_MAP_UNALLOCATED,   /* falls through to the backing file */
	QCOW2_MAP_DATA,          /* a data cluster (host_off valid) */
	QCOW2_MAP_COMPRESSED,    /* a compressed cluster (host_off = 0) */
	QCOW2_MAP_ZERO,          /* reads as zeros regardless of the backing */
};
struct qcow2_map_entry {
	uint64_t off, len;
	enum qcow2_map_kind kind;
	uint64_t host_off;       /* of the first byte, for QCOW2_MAP_DATA */
};
/* Fills up to max entries for [off, off+len) of this image alone; returns
 * the number filled (>= 1 when len > 0) or -1. */
int qcow2_map(struct qcow2_image *img, uint64_t off, uint64_t len,
	      struct qcow2_map_entry *ent, int max);

/* Guest view with provenance, like qemu-img map: depth is the chain
 * member (0 = this image) the bytes come from, or the bottom one for
 * bytes found nowhere; host_off is valid when has_off. */
struct qcow2_chain_extent {
	uint64_t off, len;
	int depth;
	bool present, zero, data, has_off;
	uint64_t host_off;
};
int qcow2_map_chain(struct qcow2_image *img, uint64_t off, uint64_t len,
		    struct qcow2_chain_extent *ext, int max);

/* Header and size changes (crash-safe: old or new state, leaks at worst). */
int qcow2_set_hidden(struct qcow2_image *img, bool hidden);
/* Rebase-unsafe: rewrite the backing name and format only. */
int qcow2_set_backing(struct qcow2_image *img, const char *backing, const char *fmt);
/* Grow the virtual size (the L1 table grows as needed); shrinking fails.
 * The grown range reads zeros, as it did before, even where the backing
 * file is longer (zero entries up to the backing file's end; all of the
 * range when the backing file is named but not open, so open the chain
 * to keep that cheap); the new size is published last, so a crash
 * leaves the old size or the new one with the range already zero. */
int qcow2_resize(struct qcow2_image *img, uint64_t new_size);

struct qcow2_info {
	int version;                 /* 2 or 3 */
	uint64_t virtual_size;
	uint32_t cluster_size;
	int refcount_bits;
	char backing[1024];          /* "" if none */
	char backing_fmt[32];
	bool hidden;
	bool dirty, corrupt, lazy_refcounts, extended_l2;
	uint64_t image_end_offset;   /* true physical size (end of last used cluster) */
	uint64_t allocated_bytes;    /* guest bytes with data in this image alone */
	uint64_t compressed_bytes;   /* those of them in compressed clusters */
	int depth;                   /* 1 + number of backing images */
	uint64_t file_size;
};
int qcow2_get_info(struct qcow2_image *img, struct qcow2_info *info);
/* Cut a regular file opened read-write to its image end (the caller is
 * the image's only writer); *freed is the number of bytes given back.
 * Block devices and images with lazy refcounts pending are left alone. */
int qcow2_trim(struct qcow2_image *img, uint64_t *freed);
uint64_t qcow2_virtual_size(const struct qcow2_image *img);
uint32_t qcow2_cluster_size(const struct qcow2_image *img);   /* 0: raw */
int qcow2_version(const struct qcow2_image *img);             /* 0: raw */
/* Set bit c (LSB first in each byte) of bm for every guest cluster c with
 * data in this image alone; bm holds ceil(clusters / 8) zeroed bytes. */
int qcow2_allocation_bitmap(struct qcow2_image *img, uint8_t *bm);

/* ---- measure, check and repair, commit (measure.c, check*.c, commit.c) ---- */

/* What qemu-img measure -O qcow2 reports, to the byte. */
struct qcow2_measure {
	uint64_t required;        /* metadata of a full image + data to copy */
	uint64_t fully_allocated; /* every cluster allocated */
	uint64_t bitmaps;         /* persistent bitmaps of the source (0: none) */
};

/* Sizes for a new empty image of virtual_size; cluster_size 0 means 64 KiB,
 * refcount_bits 0 means 16. */
int qcow2_measure(uint64_t virtual_size, uint32_t cluster_size, int refcount_bits,
		  bool extended_l2, struct qcow2_measure *m);
/* Sizes for a new image holding the guest view of img (its whole chain). */
int qcow2_measure_image(struct qcow2_image *img, uint32_t cluster_size, int refcount_bits,
			bool extended_l2, struct qcow2_measure *m);

/* qemu-img check exit codes. */
enum {
	QCOW2_CHECK_CLEAN = 0,
	QCOW2_CHECK_ERROR = 1,        /* could not check (I/O, open, memory) */
	QCOW2_CHECK_CORRUPT = 2,
	QCOW2_CHECK_LEAKS = 3,
	QCOW2_CHECK_UNSUPPORTED = 63,
};
enum {
	QCOW2_REPAIR_LEAKS = 1 << 0,  /* qemu-img check -r leaks */
	QCOW2_REPAIR_ALL = 1 << 1,    /* -r all: also refcount errors, COPIED flags */
};
struct qcow2_check_result {
	uint64_t corruptions, leaks, check_errors;
	uint64_t corruptions_fixed, leaks_fixed;
	uint64_t image_end_offset;
	uint64_t total_clusters, allocated_clusters;
	uint64_t fragmented_clusters, compressed_clusters;
	char msg[256];                /* why the check failed, for exit 1/63 */
};
/* Check (and with flags repair) the image at path, alone: its backing file
 * is not opened.  Returns the qemu-img exit code for the state after any
 * repair (QCOW2_CHECK_*); details of every finding go to log_warn.  Never
 * returns -1: failures to check are QCOW2_CHECK_ERROR with res->msg. */
int qcow2_check(const char *path, int flags, struct qcow2_check_result *res);

/* Progress of a long operation: done and total in bytes.  Returning
 * non-zero stops the operation, which then fails with ECANCELED. */
typedef int (*qcow2_progress_fn)(uint64_t done, uint64_t total, void *opaque);
/* Copy what `from` holds on its own (data, and zeros that mask what lies
 * below) into `into`, which the caller opened writable on its backing
 * chain.  Normally `from` wins (a child committed into its parent, which
 * grows to the child's size if needed); with QCOW2_MERGE_UNDER only where
 * `into` holds nothing of its own (a parent streamed into its child).  A
 * chain reading through both sees the same bytes throughout, so a merge
 * may run under readers, be interrupted and be rerun.  *bytes (if not
 * NULL): the data bytes copied, or with QCOW2_MERGE_DRY_RUN that would
 * be, nothing written. */
enum { QCOW2_MERGE_UNDER = 1 << 0, QCOW2_MERGE_DRY_RUN = 1 << 1 };
int qcow2_merge(struct qcow2_image *from, struct qcow2_image *into, int flags,
		qcow2_progress_fn progress, void *opaque, uint64_t *bytes);
/* Stream, the live form of a downward merge: in [off, off+len) of img
 * (opened writable on its chain), copy what img's first backing image
 * holds on its own (data, and zeros as zeros) wherever img still has
 * nothing.  The batch is read from the chain first; then each cluster is
 * checked and written under img's exclusive lock, so a write to img that
 * came first wins and one that comes later is never overwritten: the
 * guest view never changes, and guest I/O may run throughout.  Once a
 * stream of the whole image is done (and flushed), img shadows its
 * backing image entirely (the data written is synced on return, the
 * metadata by the caller's flush).  *bytes (if not NULL) gets the data
 * bytes written.  Not for extended L2 images (ENOTSUP) or a raw backing file. */
int qcow2_stream(struct qcow2_image *img, uint64_t off, uint64_t len, uint64_t *bytes);
/* Commit the top image at child_path into its backing file (which must be
 * qcow2 and writable here).  flags: QCOW2_OPEN_ANY_BACKING to allow an
 * absolute or ".." backing name (as for qcow2_open).  The child is left unchanged; re-running after
 * an interruption is safe while the child is unchanged. */
int qcow2_commit(const char *child_path, int flags, qcow2_progress_fn progress, void *opaque);

#endif
