/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops-int.h: private helpers shared by the files of src/ops/. */
#ifndef LQ_OPS_INT_H
#define LQ_OPS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lq/meta.h"
#include "lq/ops.h"
#include "lq/uuid.h"

struct json_object;
struct meta_volume;

/* Longest name, description, key or value accepted from xapi: what one
 * metadata record can hold (a record is at most META_REC_MAX). */
#define OPS_STR_MAX META_STR_MAX

/* Deepest chain a volume may have (its leaf and every parent). */
#define OPS_CHAIN_MAX 30

/* A requested virtual size, rounded up to 512 bytes, within what the
 * engine supports (else SR_BACKEND_FAILURE_79). */
int ops_check_size(int64_t size, uint64_t *rounded);
/* relink.c: make node's image header name its metadata parent; a
 * journal record (committed with a parent change) to do it after a crash. */
#define OPS_RELINK_OP "relink"
struct meta_journal;
int ops_node_relink(struct ops_sr *sr, const char *uuid);
int ops_relink_journal(struct ops_sr *sr, const char *uuid);
int ops_relink_replay(struct ops_sr *sr, const struct meta_journal *j);

/* journal.c: a new journal record (NULL on error); finish the changes
 * a crash interrupted (SR lock held). */
struct meta_journal *ops_journal_new(struct ops_sr *sr, const char *op);
int ops_sr_journal_replay(struct ops_sr *sr);
/* removal.c: a record that node (image) left the document; fix names
 * the node that took its place ("" when none did).
 * ops_removals_finish: the images of every record without a fix removed
 * in one store call, then those records dropped and committed (SR lock
 * held).  ops_node_alloc: store_node_alloc that, short of space, first
 * removes the images destroys left to the collector. */
int ops_removal_record(struct ops_sr *sr, const char *node, const char *image, const char *fix);
int ops_removals_finish(struct ops_sr *sr);
int ops_node_alloc(struct ops_sr *sr, const char *node, uint64_t room, char *image, size_t n);
/* gc-run.c: is the detached collector started after calls
 * (LVQCOW_GC_AUTO, default 1)? */
bool ops_gc_auto(void);
/* datapath-prune.c: release the holds of killed calls, and those of
 * volume servers that no longer run (SR lock held). */
int ops_dp_holds_prune(struct ops_sr *sr);
/* volume_resize.c: finish one interrupted resize. */
#define OPS_RESIZE_OP "resize"
int ops_resize_replay(struct ops_sr *sr, const struct meta_journal *j);

/* fit.c: the room of images where the store sizes them (nothing on a
 * directory SR).  ops_node_room: what a new empty image of vsize needs.
 * ops_fit_room: image end + extra_data + a bound on metadata growth for
 * an image of vsize (0: its own); ops_fit_full: at least room for every
 * cluster still unallocated at vsize (0: its own; a leaf a guest
 * writes); ops_leaf_room_bound: that room for a leaf of vsize, known
 * without reading it (0: none); ops_fit_end: exactly the image end
 * (nothing writes it).  ops_image_write_new: a new image written into a
 * just allocated node. */
struct qcow2_create_opts;
uint64_t ops_node_room(uint64_t vsize);
uint64_t ops_leaf_room_bound(uint64_t vsize);
int ops_fit_room(struct ops_sr *sr, const char *image, uint64_t vsize, uint64_t extra_data);
int ops_fit_full(struct ops_sr *sr, const char *image, uint64_t vsize);
/* The image end an exact fit gives image, or 0 (nothing to fit: a
 * directory SR, or lazy refcounts pending). */
int ops_image_end(struct ops_sr *sr, const char *image, uint64_t *end);
int ops_fit_end(struct ops_sr *sr, const char *image);
void ops_fit_end_quietly(struct ops_sr *sr, const char *image);
int ops_image_write_new(struct ops_sr *sr, const char *image, const struct qcow2_create_opts *o);

/* Refuse strings beyond OPS_STR_MAX (Invalid_argument). */
int ops_check_str(const char *what, const char *s);
/* Volume_does_not_exist unless key names a volume of the SR. */
int ops_find_volume(struct ops_sr *sr, const char *key, struct meta_volume **out);

/* attach.c: the host's records of attached SRs (<rundir>/attached). */
struct ops_attachment {
	char type[OPS_TYPE_MAX];
	char uuid[UUID_STR_LEN];
	char *sr;
	bool buffered;   /* serve with the page cache ("cache": "writeback") */
};
int ops_attach_record(const char *type, const char *uuid, const char *sr, bool buffered);
/* sr.c: device-config "cache": "none" (the default: direct I/O) or
 * "writeback" (buffered); anything else is refused. */
int ops_sr_cache_config(struct json_object *config, bool *buffered);
/* Sr_not_attached if no record of type names sr. */
int ops_attach_find(const char *type, const char *sr, struct ops_attachment *out);
int ops_attach_forget(const char *uuid);
/* Calls fn for each attachment of type (all types if type is NULL). */
int ops_attach_each(const char *type, int (*fn)(const struct ops_attachment *, void *), void *arg);
void ops_attach_clear(struct ops_attachment *a);

/* srh.c: open a store by type and root, lock it and load the document. */
int ops_sr_load(const char *type, const char *root, bool keep_lock, struct ops_sr **out);
/* sr.c: 1 if root holds an SR of type, 0 if not, -1 on error. */
int ops_sr_present(const char *type, const char *root);
/* Remove the SR's runtime directory (after SR.destroy). */
void ops_sr_forget_runtime(const char *uuid);

/* volume_json.c */
int ops_volume_json(struct ops_sr *sr, const struct meta_volume *v, struct json_object **out);
/* The same with the leaf node given (NULL: none; size reported as 0). */
int ops_volume_json_leaf(struct ops_sr *sr, const struct meta_volume *v, const struct meta_node *n,
			 struct json_object **out);
int ops_sr_stat_fill(struct ops_sr *sr, struct rpc_sr_stat *st);
int ops_sr_stat_json(struct ops_sr *sr, struct json_object **out);

/* activation.c: is the volume active anywhere on this host? */
int ops_activation_busy(struct ops_sr *sr, const char *key, bool *busy);
void ops_activation_forget(struct ops_sr *sr, const char *key);

#endif
