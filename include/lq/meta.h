/* meta: the SR metadata document.
 *
 * One document per SR holds everything persistent about it: the SR's
 * uuid, name and description; the volumes (the objects xapi sees: key,
 * uuid, name, description, keys set by Volume.set, sharable, read_write,
 * and the node that is the volume's leaf); the nodes (one qcow2 image
 * each: uuid, parent node, hidden flag, virtual size, image name in the
 * store); and journal records that make multi-step operations re-runnable.
 *
 * This module owns the in-memory model and its serialisation (XML via
 * libxml2, with a crc32 trailer, see docs/architecture.md).  It does no
 * I/O and takes no locks: the store reads and writes the bytes, ops holds
 * the SR lock around load, change and commit.
 *
 * Strings are NUL-terminated C strings: the rpc layer refuses embedded
 * NULs, every other byte round-trips (values XML cannot carry are kept
 * base64-encoded in the document).  All pointers inside the model are
 * owned by it; callers use the meta_* setters to change them.
 */
#ifndef LQ_META_H
#define LQ_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define META_VERSION 1
/* Largest accepted document: a defence against a corrupt length. */
#define META_MAX_BYTES (256u << 20)

struct meta_kv {
	char *k, *v;
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
};

struct meta_node {
	char *uuid;
	char *parent;       /* uuid of the backing node, or NULL */
	bool hidden;        /* immutable interior node of a snapshot tree */
	uint64_t virtual_size;
	char *image;        /* store-relative image name */
};

/* A journal record: an operation name and its arguments, written before
 * a multi-step change and removed once the change is complete. */
struct meta_journal {
	char *id;
	char *op;
	struct meta_kv *args;
	size_t nargs;
};

struct meta_sr {
	int version;
	uint64_t generation;   /* +1 at every commit */
	char *uuid;
	char *name;
	char *description;
	struct meta_volume *volumes;
	size_t nvolumes;
	struct meta_node *nodes;
	size_t nnodes;
	struct meta_journal *journal;
	size_t njournal;
};

/* Model */
struct meta_sr *meta_new(const char *uuid, const char *name, const char *description);
void meta_free(struct meta_sr *sr);
/* Replace *slot with a copy of value (NULL allowed); -1 on ENOMEM. */
int meta_set_str(char **slot, const char *value);

struct meta_volume *meta_volume_find(struct meta_sr *sr, const char *key);
/* Appends a zeroed volume with key set; the pointer is valid until the
 * next add or remove. */
struct meta_volume *meta_volume_add(struct meta_sr *sr, const char *key);
int meta_volume_remove(struct meta_sr *sr, const char *key);
/* Volume.set/unset; unset of a missing key is not an error. */
int meta_volume_set_key(struct meta_volume *v, const char *k, const char *val);
void meta_volume_unset_key(struct meta_volume *v, const char *k);
const char *meta_volume_get_key(const struct meta_volume *v, const char *k);

struct meta_node *meta_node_find(struct meta_sr *sr, const char *uuid);
struct meta_node *meta_node_add(struct meta_sr *sr, const char *uuid);
int meta_node_remove(struct meta_sr *sr, const char *uuid);
/* Is the node reachable from any volume (its leaf or an ancestor)? */
bool meta_node_referenced(const struct meta_sr *sr, const char *uuid);
/* Is there a node whose image name is image? */
bool meta_image_known(const struct meta_sr *sr, const char *image);

struct meta_journal *meta_journal_add(struct meta_sr *sr, const char *id, const char *op);
int meta_journal_set_arg(struct meta_journal *j, const char *k, const char *v);
struct meta_journal *meta_journal_find(struct meta_sr *sr, const char *id);
int meta_journal_remove(struct meta_sr *sr, const char *id);

/* Serialisation.  meta_format returns a malloc'd document (with its
 * checksum trailer); meta_parse verifies the checksum first and fails
 * with EUCLEAN on a torn, corrupt or unknown-version document. */
int meta_format(const struct meta_sr *sr, char **buf, size_t *len);
int meta_parse(const char *buf, size_t len, struct meta_sr **out);

/* String encoding used in the document, exposed for tests: true if the
 * value can be stored as XML text verbatim (valid UTF-8, XML 1.0 Chars,
 * no CR which parsers normalise). */
bool meta_str_is_xml_safe(const char *s);

#endif
