/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta: the SR metadata area and its record cache.
 *
 * Everything persistent about an SR lives in one byte range (a file for
 * the directory store, a logical volume later) made of 4 KiB blocks:
 * two superblocks, a write-ahead log holding one transaction, a hash
 * index of fixed buckets keyed by uuid, an allocation bitmap, and
 * records.  One record per object: the SR (uuid, name, description,
 * object counts, generation), each volume (key, uuid, name, description,
 * keys set by Volume.set, sharable, read_write, leaf node), each node
 * (one qcow2 image: parent, hidden, virtual size, image name, refs) and
 * each journal record (operation and arguments).  Record payloads are
 * XML elements (libxml2).  docs/metadata.md has the layout.
 *
 * This module owns the layout, the record format and the in-memory
 * cache (struct meta_sr): records are loaded on demand, changed through
 * the setters, and meta_commit writes every changed, added or removed
 * record with the index, bitmap and SR record as ONE atomic transaction.
 * It does its own pread/pwrite/fdatasync on a descriptor the store
 * opened; it never opens paths and takes no locks (ops holds the SR lock
 * from open to close).
 *
 * Strings are NUL-terminated: every other byte round-trips (values XML
 * cannot carry are stored base64).  Object pointers handed out stay
 * valid until meta_free (removed objects stay allocated in the cache).
 */
#ifndef LQ_META_H
#define LQ_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define META_VERSION 1
#define META_BLOCK 4096u
/* Longest name, description, key or value of a record. */
#define META_STR_MAX 8192u
/* Largest record (header and XML payload): 16 blocks. */
#define META_REC_BLOCKS_MAX 16u
#define META_REC_MAX (META_REC_BLOCKS_MAX * META_BLOCK)
/* Largest virtual size a node may record (16 TiB). */
#define META_VSIZE_MAX (UINT64_C(16) << 40)
/* Generation and counters stay below 2^63. */
#define META_U63_MAX ((UINT64_C(1) << 63) - 1)

struct meta_kv {
	char *k, *v;
};

/* meta's bookkeeping of a cached record (do not touch outside meta). */
struct meta_rec {
	uint32_t first, nblocks; /* where it is on disk; nblocks 0: new */
	uint32_t crc, len;       /* of the payload as loaded or committed */
	char *link;              /* volume's node / node's parent as loaded */
	bool removed;
};

struct meta_volume {
	char *key;          /* primary key in the SR (a uuid we generate) */
	char *uuid;         /* the volume's uuid (same as key today) */
	char *name;
	char *description;
	bool sharable;
	bool read_write;
	char *node;         /* uuid of the leaf node holding the data */
	struct meta_kv *keys;
	size_t nkeys;
	struct meta_rec rec;
};

struct meta_node {
	char *uuid;
	char *parent;       /* uuid of the backing node, or NULL */
	bool hidden;        /* immutable interior node of a snapshot tree */
	uint64_t virtual_size;
	char *image;        /* store-relative image name, starts with uuid */
	uint64_t refs;      /* children + volumes with this leaf; meta's own */
	struct meta_rec rec;
};

/* A journal record: an operation name and its arguments, written before
 * a multi-step change and removed once the change is complete.  Its id
 * is a uuid. */
struct meta_journal {
	char *id;
	char *op;
	struct meta_kv *args;
	size_t nargs;
	struct meta_rec rec;
};

struct meta_area;

struct meta_sr {
	uint64_t generation;   /* +1 at every commit */
	char *uuid;
	char *name;
	char *description;
	/* Committed object counts (from the SR record). */
	uint64_t nvolumes, nnodes, njournal;
	/* The cache: every object loaded or added since open. */
	struct meta_volume **vols;
	size_t nvols;
	struct meta_node **nodes;
	size_t nnodes_cached;
	struct meta_journal **jnl;
	size_t njnl;
	struct meta_area *area;
	struct meta_rec rec;
	bool broken;           /* a commit failed half-way: refuse more */
};

/* Area.  meta_format lays out an empty area on fd (a new empty file or
 * device; it grows a file to META_AREA_BYTES) holding the SR record, and
 * syncs it.  meta_open reads it: writable replays a pending transaction
 * first (the caller holds the SR lock); read-only overlays it instead.
 * meta never closes fd. */
extern const uint64_t META_AREA_BYTES;
int meta_format(int fd, const char *uuid, const char *name, const char *description);
int meta_open(int fd, bool writable, struct meta_sr **out);
void meta_free(struct meta_sr *sr);
/* Write every change since open (or the last commit) as one transaction. */
int meta_commit(struct meta_sr *sr);

/* Replace *slot with a copy of value (NULL allowed); -1 on ENOMEM. */
int meta_set_str(char **slot, const char *value);

/* Loaders: 0 and *out, or -1 with ENOENT (err_errnum) when there is no
 * such object, or -1 with another error recorded (EUCLEAN: corrupt). */
int meta_volume_find(struct meta_sr *sr, const char *key, struct meta_volume **out);
int meta_node_find(struct meta_sr *sr, const char *uuid, struct meta_node **out);
int meta_journal_find(struct meta_sr *sr, const char *id, struct meta_journal **out);
/* New objects; NULL with an error recorded (EEXIST if already there). */
struct meta_volume *meta_volume_add(struct meta_sr *sr, const char *key);
struct meta_node *meta_node_add(struct meta_sr *sr, const char *uuid);
struct meta_journal *meta_journal_add(struct meta_sr *sr, const char *id, const char *op);
int meta_volume_remove(struct meta_sr *sr, const char *key);
int meta_node_remove(struct meta_sr *sr, const char *uuid);
int meta_journal_remove(struct meta_sr *sr, const char *id);

/* Volume.set/unset; unset of a missing key is not an error. */
int meta_volume_set_key(struct meta_volume *v, const char *k, const char *val);
void meta_volume_unset_key(struct meta_volume *v, const char *k);
const char *meta_volume_get_key(const struct meta_volume *v, const char *k);
int meta_journal_set_arg(struct meta_journal *j, const char *k, const char *v);
/* NULL when the record has no such argument. */
const char *meta_journal_get_arg(const struct meta_journal *j, const char *k);

/* Child nodes plus volumes whose leaf it is, pending changes included. */
int meta_node_refs(struct meta_sr *sr, const char *uuid, uint64_t *n);
/* Is image the image of a node of the SR?  Image names hold the node's
 * uuid (the first uuid in the name, whatever the store's form around
 * it), so this is one index lookup. */
int meta_image_known(struct meta_sr *sr, const char *image, bool *known);

/* Call fn for every committed volume (SR.ls), in block order, with its
 * leaf node (NULL if the index has none of that uuid).  Both are read
 * from the area for the call only, never cached, and the leaf is found
 * in the index read once for the walk: the cost per volume does not
 * grow with the SR.  Stops at fn's -1. */
int meta_volume_each(struct meta_sr *sr,
		     int (*fn)(struct meta_sr *, struct meta_volume *, struct meta_node *leaf, void *),
		     void *arg);
/* The same for every committed node. */
int meta_node_each(struct meta_sr *sr, int (*fn)(struct meta_sr *, struct meta_node *, void *),
		   void *arg);
/* The same for every committed journal record. */
int meta_journal_each(struct meta_sr *sr,
		      int (*fn)(struct meta_sr *, struct meta_journal *, void *), void *arg);
/* Full validation, O(objects): every record loads, every volume's node
 * and every parent exists, no cycles, refs and counts consistent. */
int meta_check(struct meta_sr *sr);

/* String encoding used in records, exposed for tests: true if the value
 * can be stored as XML text verbatim (valid UTF-8, XML 1.0 Chars, no CR
 * which parsers normalise). */
bool meta_str_is_xml_safe(const char *s);

/* Record codec, exposed for the fuzzer: parse one record block run
 * (header and payload) of the given kind and uuid and free the result. */
int meta_record_try(const unsigned char *buf, size_t len);

#endif
