/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2-int.h: private interface shared by the files of src/qcow2/.
 *
 * On-disk header (big-endian), as decoded by header.c:
 *   OFFSET SIZE  FIELD
 *   0      4     magic "QFI\xfb"
 *   4      4     version (2 or 3)
 *   8      8     backing_file_offset
 *   16     4     backing_file_size (<= 1023)
 *   20     4     cluster_bits (9..21)
 *   24     8     size (virtual)
 *   32     4     crypt_method (only 0 is supported)
 *   36     4     l1_size
 *   40     8     l1_table_offset
 *   48     8     refcount_table_offset
 *   56     4     refcount_table_clusters
 *   60     4     nb_snapshots
 *   64     8     snapshots_offset
 *   72     8     incompatible_features      (v3 from here)
 *   80     8     compatible_features
 *   88     8     autoclear_features
 *   96     4     refcount_order
 *   100    4     header_length
 *   104    1     compression_type (if header_length > 104)
 */
#ifndef LQ_QCOW2_INT_H
#define LQ_QCOW2_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lq/qcow2.h"

#include "lq/be.h"
#include "lq/dio.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS (1ull << 0)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u
#define QCOW2_EXT_HIDDEN 0x76617465u /* XCP-ng "vate": 8 bytes, flag in byte 0 */

#define QCOW2_L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_REFT_OFFSET_MASK 0xfffffffffffffe00ull
#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO (1ull << 0)
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_MAX_HOST_OFFSET (1ull << 56)
#define QCOW2_L1E_RESERVED_MASK 0x7f000000000001ffull
#define QCOW2_L2E_STD_RESERVED_MASK 0x3f000000000001feull
#define QCOW2_REFT_RESERVED_MASK 0x1ffull
#define QCOW2_INCOMPAT_KNOWN 0x1full
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_HIDDEN_EXT_LEN 8

/* One header extension, as found (unknown ones are kept byte for byte). */
struct qcow2_ext {
	uint32_t type;
	uint32_t len;
	uint8_t *data;
};

/* The decoded first cluster. */
struct qcow2_header {
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order;
	uint32_t header_length;
	uint8_t compression_type;
	uint8_t *extra_fields;          /* bytes 105..header_length-1 kept verbatim */
	uint32_t extra_fields_len;
	struct qcow2_ext *exts;         /* in file order, END excluded */
	int nb_exts;
	int exts_cap;                   /* allocated length of exts */
	char backing_file[1024];        /* NUL-terminated copy */
	char backing_fmt[32];
	bool hidden;
	bool has_hidden_ext;
};

/* Decode and validate the first cluster (every byte hostile).  buf holds
 * len bytes from file offset 0 (at least a cluster or the whole file);
 * file_size bounds the tables.  On failure records the reason (EUCLEAN for
 * corrupt, ENOTSUP for unsupported) and returns -1. */
int qcow2_header_decode(const uint8_t *buf, uint64_t len, uint64_t file_size,
			struct qcow2_header *h);
void qcow2_header_free(struct qcow2_header *h);
/* The raw field decoders behind qcow2_header_decode, without validation,
 * for the checker (which applies qemu's looser open rules itself).  b
 * holds at least 72 bytes (fixed) or 104 bytes (v3). */
void qcow2_header_decode_fixed(const uint8_t *b, struct qcow2_header *h);
void qcow2_header_decode_v3(const uint8_t *b, struct qcow2_header *h);
/* Encode the header, extensions and backing name into a cluster-sized
 * buffer, the way the first cluster is rewritten. */
int qcow2_header_encode(const struct qcow2_header *h, uint8_t *cluster, uint32_t cluster_size);

/* Number of L1 entries needed for a virtual size (qemu's size_to_l1). */
uint64_t qcow2_size_to_l1(const struct qcow2_header *h, uint64_t size);
/* Set the hidden flag, adding the 8-byte extension if the image has none. */
int qcow2_header_set_hidden(struct qcow2_header *h, bool hidden);
/* Deep copy (extensions and extra fields duplicated). */
int qcow2_header_copy(struct qcow2_header *dst, const struct qcow2_header *src);

/* ------------------------------------------------------------------ */
/* hdrext.c: the walk over the header extensions, from h->header_length
 * to the backing name or the end of the first cluster (h needs its fixed
 * fields, header_length and cluster_bits decoded and within the cluster).
 * buf holds len bytes from file offset 0; bytes past them read as zeros.
 * Calls fn for each extension before the end marker, in file order, but
 * only once the whole area has passed the bounds checks; returns -1
 * (recorded: EUCLEAN) when it does not, or fn's -1. */
typedef int (*qcow2_hdrext_fn)(void *arg, uint32_t type, const uint8_t *data, uint32_t len);
/* The engine's rules on top of qemu's: no repeated type, padding inside
 * the area, and an end marker unless a backing name follows. */
#define QCOW2_HDREXT_STRICT 1u
int qcow2_hdrext_walk(const uint8_t *buf, uint64_t len, const struct qcow2_header *h,
		      unsigned flags, qcow2_hdrext_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* io.c: whole-buffer I/O on a descriptor (EINTR and short transfers
 * retried).  Reads past the end of the file return zeros, as a sparse
 * region would: clusters beyond EOF are unwritten, not missing. */
/* Open an image file: a FIFO, socket or directory fails at once (never
 * blocks); nofollow refuses a symbolic link as the last component. */
int qcow2_io_open(const char *path, bool rw, bool nofollow, bool direct);
/* open.c: a backing name from the header of the image at path may be
 * followed (absolute names and ".." only with QCOW2_OPEN_ANY_BACKING). */
int qcow2_backing_name_ok(const char *path, const char *name, int flags);
int qcow2_io_read(int fd, void *buf, size_t len, uint64_t off);
int qcow2_io_write(int fd, const void *buf, size_t len, uint64_t off);
int qcow2_io_sync(int fd);
uint64_t qcow2_io_size(int fd);   /* file or block device size; 0 on error */
/* I/O on an open image's file, aligned for direct I/O when the file is
 * open with O_DIRECT (lq/dio.h): every read and write of the engine on
 * img->fd goes through these two. */
int qcow2_img_read(struct qcow2_image *img, void *buf, size_t len, uint64_t off);
int qcow2_img_write(struct qcow2_image *img, const void *buf, size_t len, uint64_t off);

/* ------------------------------------------------------------------ */
/* cache.c: a small write-back cache of cluster-sized metadata tables (L2
 * tables, refcount blocks), keyed by host offset, LRU.  Pointers returned
 * stay valid until the next qcow2_cache_get on the same cache.  Evicting
 * a dirty entry first writes back all metadata in order (qcow2_flush_meta),
 * so the write ordering holds whatever gets evicted. */
struct qcow2_cache_entry {
	uint64_t off;        /* host offset, 0 = free slot */
	uint8_t *data;
	uint64_t lru;
	bool dirty;
};
struct qcow2_cache {
	struct qcow2_cache_entry *e;
	int n;
	int last;            /* index of the last hit: sequential I/O */
	uint64_t tick;
	uint32_t size;       /* bytes per entry (one cluster) */
};
int qcow2_cache_init(struct qcow2_cache *c, int n, uint32_t size);
void qcow2_cache_free(struct qcow2_cache *c);
/* fresh: the table is new; zero it instead of reading it. */
int qcow2_cache_get(struct qcow2_image *img, struct qcow2_cache *c, uint64_t off,
		    bool fresh, uint8_t **data);
void qcow2_cache_set_dirty(struct qcow2_cache *c, uint64_t off);
bool qcow2_cache_any_dirty(const struct qcow2_cache *c);
/* Write every dirty entry (no sync). */
int qcow2_cache_write_back(struct qcow2_image *img, struct qcow2_cache *c);
/* The cached table at off (clean or dirty), or NULL; no I/O, LRU kept. */
uint8_t *qcow2_cache_peek(struct qcow2_cache *c, uint64_t off);
/* Forget a table whose cluster was freed (dirty contents are dropped). */
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off);

/* ------------------------------------------------------------------ */
/* The open image.  Locking: `lock` (a mutex) protects every field below
 * it: header, L1, refcount table, both caches, the free list.  `io` (a
 * rwlock, writer-preferring) orders data I/O against changes of the
 * mapping: guest reads and in-place overwrites of clusters this image
 * owns hold it shared for the whole operation (their data I/O runs
 * without the mutex); anything that allocates, frees or remaps clusters
 * holds it exclusive, so no reader ever sees a cluster reused under it.
 * Lock order: io, then lock; a backing image's locks after ours. */
struct qcow2_image {
	int fd;
	struct dio dio;              /* fd with its direct I/O alignment */
	bool rw;
	bool raw;                    /* a raw backing file: fd and raw_size only */
	uint64_t raw_size;
	char *path;
	struct qcow2_image *backing; /* NULL: none (reads past it are zeros) */
	int depth;                   /* 1 + images below */
	pthread_rwlock_t io;
	pthread_mutex_t lock;

	struct qcow2_header h;
	uint32_t cs;                 /* cluster size */
	unsigned cbits;
	uint64_t l2_entries;         /* entries per L2 table */
	unsigned l2_bits;            /* log2(l2_entries) */
	unsigned l2e_size;           /* 8, or 16 with extended L2 */
	bool extl2;
	unsigned csize_shift;        /* compressed descriptor layout */
	uint64_t csize_mask, coff_mask;

	uint64_t *l1;                /* host order, l1_size entries */
	uint64_t l1_dirty_lo, l1_dirty_hi; /* [lo, hi) entries to write back */

	uint64_t *reftable;          /* host order, rt_entries entries */
	uint64_t rt_entries;
	uint64_t rt_dirty_lo, rt_dirty_hi;
	bool rt_moved;               /* new table not yet in the header */
	unsigned rc_order;
	uint64_t rb_entries;         /* refcounts per refcount block */
	uint64_t rc_max;

	struct qcow2_cache l2c, rbc;
	struct qcow2_run *frees;     /* deferred refcount decrements */
	size_t nfrees, frees_cap;
	uint64_t free_hint;          /* first cluster that may be free */
	uint64_t alloc_end;          /* past every cluster allocated since open */
	bool need_rebuild;           /* dirty bit: refcounts untrusted */
	const uint8_t *scan_map;     /* read-only mapping of the file for */
	uint64_t scan_len;           /*   whole-image scans (l2.c), or NULL */
	bool scan_unmappable;        /* mmap refused: scans use the cache */
	struct qcow2_meta_range *meta; /* metadata clusters (overlap.c), */
	size_t nmeta;                /*   valid while meta_ok */
	bool meta_ok;
	bool broken;                 /* corruption found while writing: never write again */
};

/* Widen the range [*lo, *hi) of table entries to write back (empty when
 * lo >= hi) to cover entry i: the L1 and the refcount table keep one each. */
static inline void qcow2_dirty_widen(uint64_t *lo, uint64_t *hi, uint64_t i)
{
	if (*lo >= *hi) {
		*lo = i;
		*hi = i + 1;
		return;
	}
	*lo = i < *lo ? i : *lo;
	*hi = i + 1 > *hi ? i + 1 : *hi;
}

/* Host clusters [start, end) holding metadata. */
struct qcow2_meta_range {
	uint64_t start, end;
};
/* The L1 or refcount table changed: rebuild the metadata map when next used. */
static inline void qcow2_meta_stale(struct qcow2_image *img)
{
	img->meta_ok = false;
}
/* ------------------------------------------------------------------ */
/* overlap.c: the metadata map and the overlap guard (need img->lock). */
/* *hit: some cluster of [c, c+n) holds metadata. */
int qcow2_meta_overlap(struct qcow2_image *img, uint64_t c, uint64_t n, bool *hit);
/* Refuse a data write to [host, host+len) that would overwrite metadata
 * (EIO), marking the image corrupt. */
int qcow2_guard_data(struct qcow2_image *img, uint64_t host, uint64_t len);
/* Corruption found while writing: set the corrupt bit (v3, synced) and
 * stop every later write, metadata flushes included. */
int qcow2_mark_corrupt(struct qcow2_image *img);
/* err_corrupt for corruption found in an image that may be written:
 * also mark it corrupt, so that it is repaired before the next write. */
#define qcow2_err_corrupt(img, ...) (qcow2_mark_corrupt(img), err_corrupt(__VA_ARGS__))
/* An L2 table about to be modified must not lie on the header, the L1
 * table or the refcount table (EIO and corrupt otherwise). */
int qcow2_guard_l2(struct qcow2_image *img, uint64_t l2_off);
/* A run of host clusters [start, start + n) whose refcounts drop by one. */
struct qcow2_run {
	uint64_t start, n;
};

/* ------------------------------------------------------------------ */
/* refcount.c: refcounts and cluster allocation.  Cluster indices are
 * host offsets >> cbits.  Allocation raises refcounts in the cache only;
 * frees are deferred (qcow2_free_deferred) and applied by
 * qcow2_apply_frees after the tables that dropped the references are on
 * disk, so a freed cluster is never reused while an old table on disk
 * may still point at it.  All need img->lock. */
uint64_t qcow2_rc_get_bits(const uint8_t *block, uint64_t idx, unsigned order);
void qcow2_rc_put_bits(uint8_t *block, uint64_t idx, unsigned order, uint64_t v);
int qcow2_refcount_get(struct qcow2_image *img, uint64_t cluster, uint64_t *rc);
/* Creates the refcount block if the table entry is empty (the table must
 * already be large enough: see qcow2_alloc_clusters). */
int qcow2_refcount_set(struct qcow2_image *img, uint64_t cluster, uint64_t rc);
/* n contiguous free clusters, refcount 1 each; returns the host offset. */
int qcow2_alloc_clusters(struct qcow2_image *img, uint64_t n, uint64_t *host_off);
int qcow2_free_deferred(struct qcow2_image *img, uint64_t cluster, uint64_t n);
/* Release the references of an L2 entry (data, preallocated zero or the
 * host clusters a compressed cluster touches). */
int qcow2_free_l2_entry(struct qcow2_image *img, uint64_t entry);
int qcow2_apply_frees(struct qcow2_image *img);
int qcow2_refcount_load(struct qcow2_image *img);
/* Highest cluster with a non-zero refcount + 1 (0 if none). */
int qcow2_refcount_end(struct qcow2_image *img, uint64_t *end);
/* Rebuild every refcount from the references (lazy refcounts / dirty
 * bit) into a new table and blocks at the end of the image. */
int qcow2_refcount_rebuild(struct qcow2_image *img);

/* ------------------------------------------------------------------ */
/* l2.c: L1/L2 lookup and classification.  Entries are host order. */
enum qcow2_ctype {
	QCOW2_C_UNALLOCATED,  /* reads from the backing chain */
	QCOW2_C_ZERO_PLAIN,   /* zeros, no host cluster */
	QCOW2_C_ZERO_ALLOC,   /* zeros, host cluster kept */
	QCOW2_C_NORMAL,       /* data at host offset */
	QCOW2_C_COMPRESSED,
	QCOW2_C_INVALID,
};
/* Classify one unit (a cluster, or a subcluster with extended L2: sc is
 * its index, bitmap the second entry word).  *host is the unit's host
 * offset for NORMAL/ZERO_ALLOC.  Pure: no I/O. */
enum qcow2_ctype qcow2_l2_classify(const struct qcow2_image *img, uint64_t entry,
				   uint64_t bitmap, unsigned sc, uint64_t *host);
int qcow2_l2_unit_kind(struct qcow2_image *img, uint64_t e, uint64_t bm, unsigned sc,
		       enum qcow2_map_kind *k, uint64_t *host);
/* Host offset of the L2 table of l1 index i (0: none), validated. */
int qcow2_l1_offset(struct qcow2_image *img, uint64_t l1i, uint64_t *off);
/* The L2 table of l1 index i, or NULL (*tbl) when unallocated. */
int qcow2_l2_table(struct qcow2_image *img, uint64_t l1i, uint8_t **tbl);
/* The L2 entry (and extended bitmap) of guest cluster vc (the virtual
 * cluster index: "gc" is the garbage collector's word). */
int qcow2_l2_lookup(struct qcow2_image *img, uint64_t vc, uint64_t *entry, uint64_t *bitmap);
/* The same for whole-image scans: a cached table if there is one, else
 * straight from a read-only mapping of the file (no copy, no eviction).
 * Valid until the lock is dropped or the next call. */
int qcow2_l2_table_scan(struct qcow2_image *img, uint64_t l1i, const uint8_t **tbl);
void qcow2_scan_unmap(struct qcow2_image *img);
/* An L2 table this image may modify (allocated or made private). */
int qcow2_l2_writable(struct qcow2_image *img, uint64_t l1i, uint8_t **tbl);
static inline uint64_t qcow2_l2_get(const struct qcow2_image *img, const uint8_t *t, uint64_t i)
{
	return be64_get(t + i * img->l2e_size);
}
static inline uint64_t qcow2_l2_bitmap(const struct qcow2_image *img, const uint8_t *t, uint64_t i)
{
	return img->extl2 ? be64_get(t + i * 16 + 8) : 0;
}
/* Entry i (and its bitmap) all zero bits: an unallocated unit, tested
 * without decoding, the common case in a sparse table. */
static inline bool qcow2_l2_empty(const struct qcow2_image *img, const uint8_t *t, uint64_t i)
{
	uint64_t w[2] = { 0, 0 };

	if (img->extl2)
		memcpy(w, t + i * 16, 16);
	else
		memcpy(w, t + i * 8, 8);
	return !(w[0] | w[1]);
}
/* Store entry i of table t (at host offset l2_off) and mark it dirty. */
void qcow2_l2_put(struct qcow2_image *img, uint8_t *t, uint64_t l2_off, uint64_t i, uint64_t e);
/* Read a raw L2 table (host order entries, l2_entries of them; with
 * extended L2 pairs entry, bitmap) through the cache; for check/commit. */
int qcow2_l2_read_raw(struct qcow2_image *img, uint64_t l2_off, uint64_t *out);
/* Units per cluster: 32 with extended L2, else 1. */
static inline unsigned qcow2_units(const struct qcow2_image *img)
{
	return img->extl2 ? 32 : 1;
}

/* ------------------------------------------------------------------ */
/* flush.c: write-back of metadata in crash-safe order:
 *   data + refcount blocks -> sync -> refcount table (-> sync -> header
 *   switch) -> sync -> L2 tables -> sync -> L1 -> (apply frees: refcount
 *   blocks -> sync).  qcow2_flush_meta does the part before the frees
 * (used on cache eviction); qcow2_flush_locked does all and syncs. */
int qcow2_flush_meta(struct qcow2_image *img);
int qcow2_flush_locked(struct qcow2_image *img);
/* Rewrite the first cluster from img->h (only the bytes that changed)
 * and sync. */
int qcow2_header_write(struct qcow2_image *img, const struct qcow2_header *nh);

/* ------------------------------------------------------------------ */
/* read.c */
/* Guest read of [off, off+len) of a chain member; past its virtual size
 * reads are zeros (a backing file shorter than its child). */
int qcow2_read_below(struct qcow2_image *img, void *buf, uint64_t len, uint64_t off);
/* The guest content of one whole cluster as seen through an L2 entry. */
int qcow2_read_cluster(struct qcow2_image *img, uint64_t entry, uint64_t vc, uint8_t *buf);
int qcow2_decompress(struct qcow2_image *img, uint64_t entry, uint8_t *out);

/* ------------------------------------------------------------------ */
/* write.c / zero.c */
int qcow2_write_locked(struct qcow2_image *img, const uint8_t *buf, uint64_t len, uint64_t off);
/* Exclusive section for changes of the mapping: takes the locks and
 * rebuilds refcounts first if the image was dirty; end releases them
 * (flushing first when many frees are pending) and returns r. */
int qcow2_begin_change(struct qcow2_image *img);
int qcow2_end_change(struct qcow2_image *img, int r);
/* Zeros (zero flags, or written zeros on v2) for [off, off+len) of an
 * image being grown to vend, past its current size: for the grow only,
 * inside its exclusive section, before the new size is published. */
int qcow2_zero_grown_locked(struct qcow2_image *img, uint64_t off, uint64_t len, uint64_t vend);
/* Writable handle and guest range. */
int qcow2_check_write(const struct qcow2_image *img, uint64_t off, uint64_t len);
/* True when guest range [off, off+len) of the backing reads as zeros
 * without looking: no backing or wholly past its end. */
bool qcow2_backing_absent(const struct qcow2_image *img, uint64_t off, uint64_t len);
/* zero.c: write-zeroes (unmapping allowed) with the exclusive section
 * already held, for a caller that decides under the same hold. */
int qcow2_zero_locked(struct qcow2_image *img, uint64_t off, uint64_t len);

/* ------------------------------------------------------------------ */
/* status.c: guest bytes with data in this image alone (backing ignored),
 * and how many of them are in compressed clusters; one scan per distinct
 * L2 table (bounded by the file size). */
struct qcow2_alloc {
	uint64_t bytes, compressed;
};
int qcow2_allocated_bytes(struct qcow2_image *img, struct qcow2_alloc *a);

/* ------------------------------------------------------------------ */
/* open.c */
uint64_t qcow2_vsize(const struct qcow2_image *img);
/* Lock helpers: io shared/exclusive, then the mutex. */
void qcow2_lock_shared(struct qcow2_image *img);
void qcow2_lock_excl(struct qcow2_image *img);
void qcow2_unlock(struct qcow2_image *img);
/* Range check of a guest request. */
int qcow2_check_range(const struct qcow2_image *img, uint64_t off, uint64_t len);

#endif
