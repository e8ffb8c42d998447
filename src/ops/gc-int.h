/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gc-int.h: the garbage collector's private parts (see docs/gc.md). */
#ifndef LQ_GC_INT_H
#define LQ_GC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lq/uuid.h"

struct ops_sr;

/* gc-tree.c: the whole tree of an SR as one scan read it. */
struct gc_node {
	char uuid[UUID_STR_LEN];
	char parent[UUID_STR_LEN];  /* "" for a base image */
	char image[256];
	bool hidden;
	uint64_t refs, vsize;
	size_t nchildren;
};

struct gc_vol {
	char key[UUID_STR_LEN];
	char node[UUID_STR_LEN];
	bool read_write;
};

struct gc_tree {
	struct gc_node *node;       /* sorted by uuid */
	size_t nnodes;
	struct gc_vol *vol;
	size_t nvols;
};

int gc_tree_load(struct ops_sr *sr, struct gc_tree *t);
void gc_tree_free(struct gc_tree *t);
/* The node of uuid, or NULL. */
struct gc_node *gc_tree_node(const struct gc_tree *t, const char *uuid);
/* The volume whose leaf is node, or NULL. */
struct gc_vol *gc_tree_vol_at(const struct gc_tree *t, const char *node);
/* Is node an ancestor of (or equal to) the node of uuid? */
bool gc_tree_below(const struct gc_tree *t, const char *node, const char *uuid);

/* gc-step.c: the work. */
enum gc_kind { GC_NONE, GC_REMOVE, GC_COALESCE };
struct gc_step {
	enum gc_kind kind;
	char node[UUID_STR_LEN];    /* removed, or the child of the pair */
	char parent[UUID_STR_LEN];  /* the parent of the pair */
	char volume[UUID_STR_LEN];  /* the volume whose writable leaf is node */
	bool live;                  /* that volume is attached: its server copies */
	uint64_t vsize;             /* of node, as chosen */
};
int gc_step_next(struct ops_sr *sr, const struct gc_tree *t, struct gc_step *s);
/* Runs one step; the SR lock is taken and dropped inside. */
int gc_step_run(const char *type, const char *sr, const struct gc_step *s);
/* The journal record of a switched step: finish it (SR lock held). */
#define GC_JOURNAL_OP "gc-remove-image"
struct meta_journal;
int gc_journal_finish(struct ops_sr *sr, const struct meta_journal *j);

/* gc-run.c: may a copy's target be repaired now?  1 when no collector
 * of the SR (uuid) can be copying: this process is it, or its lock was
 * free and is now held in *fd (close it when done; -1 if not taken);
 * 0 when another process's collector holds it; -1 on error. */
int gc_lock_idle(const char *uuid, int *fd);

/* gc-copy.c: a coalesce's copy is journaled before it starts (the pair's
 * two nodes), so that clusters a killed copy leaked in its target are
 * freed by the replay.  See docs/gc.md, "Leaked clusters". */
#define GC_COPY_OP "gc-copy"
struct meta_node;
/* Add the record (committed with the caller's next commit). */
int gc_copy_journal(struct ops_sr *sr, const struct meta_node *n, const struct meta_node *p,
		    char id[UUID_STR_LEN]);
/* The replay: free the leaks of both images where that is safe, drop the
 * record; left in place while another collector runs or a server writes
 * one of the images. */
int gc_copy_replay(struct ops_sr *sr, const struct meta_journal *j);
/* A copy that failed without a crash: the same, but the record is
 * always dropped (SR lock held; committed by the caller). */
int gc_copy_abandon(struct ops_sr *sr, const char *id);
/* Could a server be writing this node's image right now (the leaf of an
 * attached read-write volume)? */
int gc_node_written(struct ops_sr *sr, const struct meta_node *n, bool *written);
/* Free the leaked clusters of node's image if nothing may be writing it
 * (a hidden node, or the leaf of a volume that is not attached, and no
 * other collector running); *busy when that is why it was not done. */
int gc_repair_leaks(struct ops_sr *sr, const char *node, bool *busy);
/* After a coalesce: cut the surviving node's file to its image end, on
 * the same condition (a served leaf keeps its space until a later run). */
int gc_give_back(struct ops_sr *sr, const char *node);

/* gc-live.c: a leaf coalesce of an attached volume: the volume's server
 * streams parent into child.  Start under the SR lock (so the chain
 * served cannot change between the check and the start: a refusal then
 * is a real failure); wait without it, until done and flushed. */
int gc_live_start(const struct gc_step *s, const char *child, const char *parent);
int gc_live_wait(const char *sr_uuid, const struct gc_step *s);

/* gc-claim.c: a leaf being coalesced is claimed, so that Datapath.attach
 * (and resize) can make the collector let go of it first. */
struct gc_claim {
	int fd;
	char path[4096];
};
int gc_claim_take(struct ops_sr *sr, const char *key, struct gc_claim *c);
/* Stop writing: the collector keeps the file only to see a cancel. */
void gc_claim_unlock(struct gc_claim *c);
bool gc_claim_cancelled(const struct gc_claim *c);
void gc_claim_drop(struct gc_claim *c);

/* gc-status.c: what the collector is doing, for --status. */
int gc_runtime_path(const char *sr_uuid, const char *name, char *buf, size_t n);
void gc_status_set(const char *sr_uuid, const char *state, const struct gc_step *s, uint64_t done,
		   uint64_t total);

#endif
