/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops: the backend-independent logic of SRs and volumes.
 *
 * Entry points (plugin/, volume/, datapath/) call these; they reach the
 * store (where images live), meta (the SR document) and the qcow2
 * engine.  Every change to an SR happens inside one SR handle opened
 * with OPS_SR_LOCKED: the SR lock (flock on the SR's lock file) is held
 * from load to commit, so concurrent calls never lose an update.
 *
 * The stable API for the datapath is the "URI", "SR handle", "volume
 * lookup" and "activation" sections below.
 */
#ifndef LQ_OPS_H
#define LQ_OPS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lq/rpc.h"
#include "lq/uuid.h"

struct meta_sr;
struct meta_volume;
struct store;

/* ---- URI --------------------------------------------------------------
 * Volumes are named to the datapath by
 *     lvqcow://<sr type>/<sr string>/<key>
 * e.g. lvqcow://fileqcow/srv/sr1/5f0c...-uuid for SR "/srv/sr1".  SR
 * strings always begin with "/", so the path is exactly the SR string,
 * "/" and the key.  Bytes outside the RFC 3986 unreserved set are
 * percent-encoded, except "/" inside the SR string (a "/" in a key is
 * encoded, so the last "/" always separates the key). */
#define OPS_URI_SCHEME "lvqcow"
#define OPS_TYPE_MAX 32

struct ops_uri {
	char type[OPS_TYPE_MAX]; /* "fileqcow" or "lvqcow" */
	char *sr;                /* malloc'd, decoded */
	char *key;               /* malloc'd, decoded */
};

/* *out is malloc'd. */
int ops_uri_format(const char *type, const char *sr, const char *key, char **out);
/* Strict: scheme, a type of [a-z0-9-], an absolute SR string, a
 * non-empty key, no NUL or malformed escapes.  Clear with ops_uri_clear. */
int ops_uri_parse(const char *uri, struct ops_uri *out);
void ops_uri_clear(struct ops_uri *u);

/* ---- SR handle -------------------------------------------------------- */
enum {
	/* Hold the SR lock exclusively until ops_sr_close (needed to change
	 * anything, including activation records).  Without it the document
	 * is read under the lock taken shared (which works on a read-only
	 * filesystem) and the lock is dropped at once.  Either wait is
	 * bounded (STORE_LOCK_TIMEOUT_MS, lq/store.h). */
	OPS_SR_LOCKED = 1 << 0,
};

struct ops_sr {
	char type[OPS_TYPE_MAX];
	char *sr;                /* the SR string SR.attach returned */
	char uuid[UUID_STR_LEN];
	struct store *store;
	struct meta_sr *meta;
	int meta_fd;             /* the metadata area, -1 if not open */
	bool locked;             /* the SR lock is held */
	bool buffered;           /* device-config "cache": "writeback" */
};

/* Open an attached SR: the SR string must be recorded as attached on this
 * host for this type (else Sr_not_attached), and its document must load
 * and carry the recorded uuid. */
int ops_sr_open(const char *type, const char *sr, unsigned flags, struct ops_sr **out);
/* Write the document back (needs OPS_SR_LOCKED); generation + 1. */
int ops_sr_commit(struct ops_sr *sr);
/* Release the lock and free everything; NULL is ignored. */
void ops_sr_close(struct ops_sr *sr);
/* <rundir>/sr/<sr uuid>, created: per-SR runtime state of this host. */
int ops_sr_runtime_dir(const struct ops_sr *sr, char *buf, size_t n);

/* ---- Volume lookup ---------------------------------------------------- */
struct ops_volume_info {
	char key[UUID_STR_LEN];
	char node[UUID_STR_LEN];     /* leaf node uuid */
	char image[128];             /* the leaf's store-relative image name */
	char image_path[PATH_MAX];   /* the leaf image, openable by qcow2_open */
	bool sharable;
	bool read_write;
	uint64_t virtual_size;
};

/* Volume_does_not_exist for an unknown key. */
int ops_volume_lookup(struct ops_sr *sr, const char *key, struct ops_volume_info *out);
/* The same from the metadata alone, image_path left empty: resolving it
 * may activate the leaf (LVM), which a call that never reads the image
 * must not pay for. */
int ops_volume_lookup_meta(struct ops_sr *sr, const char *key, struct ops_volume_info *out);

/* ---- Activation records -----------------------------------------------
 * Runtime (this host, until reboot) state of a volume's datapath: which
 * domains have it active and how, and the persistent flag from
 * Datapath.open.  Kept in <rundir>/sr/<sr uuid>/active/<key>, replaced
 * atomically, changed only under the SR lock. */
#define OPS_DOMAIN_MAX 256
#define OPS_ACTIVE_MAX 64

struct ops_active {
	char domain[OPS_DOMAIN_MAX];  /* opaque xapi domain string */
	bool read_write;
};

struct ops_activation {
	bool persistent;              /* default true (no Datapath.open yet) */
	size_t n;
	struct ops_active dom[OPS_ACTIVE_MAX];
};

/* Read the record (an empty, persistent one if there is none). */
int ops_activation_get(struct ops_sr *sr, const char *key, struct ops_activation *out);
/* Read-modify-write under the SR lock (sr opened OPS_SR_LOCKED; the key
 * must name an existing volume).  fn changes *act in place and returns 0,
 * or records an error and returns -1, in which case nothing is written.
 * An empty persistent record is removed rather than stored. */
typedef int (*ops_activation_fn)(struct ops_activation *act, void *arg);
int ops_activation_update(struct ops_sr *sr, const char *key, ops_activation_fn fn, void *arg);
/* Helpers for fn: find a domain (index or -1), add or replace, remove. */
int ops_activation_find(const struct ops_activation *act, const char *domain);
int ops_activation_put(struct ops_activation *act, const char *domain, bool read_write);
void ops_activation_drop(struct ops_activation *act, const char *domain);

/* ---- SR verbs (plugin/ and volume/ entry points) ---------------------- */

int ops_sr_create(const char *type, const char *uuid, struct json_object *config,
		  const char *name, const char *description, struct json_object **result);
int ops_sr_attach(const char *type, struct json_object *config, char **sr_out);
int ops_sr_detach(const char *type, const char *sr);
int ops_sr_destroy(const char *type, const char *sr);
int ops_sr_stat(const char *type, const char *sr, struct json_object **result);
int ops_sr_ls(const char *type, const char *sr, struct json_object **result);
int ops_sr_probe(const char *type, struct json_object *config, struct json_object **result);
int ops_sr_set_name(const char *type, const char *sr, const char *name);
int ops_sr_set_description(const char *type, const char *sr, const char *description);
/* Is type an SR type this plugin serves (else an error)? */
int ops_plugin_check(const char *type);
/* Plugin.ls: the SR strings attached on this host for type. */
int ops_plugin_ls(const char *type, struct json_object **result);
int ops_plugin_diagnostics(const char *type, struct json_object **result);

/* Orphan sweep: move store images that no node of the document names
 * (left by a crash between image creation and commit, or between commit
 * and removal, or not named by a restored older document) into the
 * store's quarantine; restore quarantined images the document names
 * again; remove quarantined images older than the grace period
 * (LVQCOW_QUARANTINE_GRACE seconds, default OPS_QUARANTINE_GRACE).
 * Needs OPS_SR_LOCKED.  Returns the number moved into quarantine. */
#define OPS_QUARANTINE_GRACE (24 * 3600)
int ops_sr_sweep(struct ops_sr *sr);

/* ---- Volume verbs ----------------------------------------------------- */
int ops_volume_create(const char *type, const char *sr, const char *name,
		      const char *description, int64_t size, bool sharable,
		      struct json_object **result);
int ops_volume_destroy(const char *type, const char *sr, const char *key);
/* A read-only volume holding the volume's data of this moment; the
 * volume stays writable.  Live when the volume is being served. */
int ops_volume_snapshot(const char *type, const char *sr, const char *key,
			struct json_object **result);
/* The same as a writable volume. */
int ops_volume_clone(const char *type, const char *sr, const char *key,
		     struct json_object **result);
/* Put child's data on top of parent's: what child never wrote reads as
 * parent does now (parent stays as it is).  xapi's VDI.compose. */
int ops_volume_compose(const char *type, const char *sr, const char *child, const char *parent);
/* Grow the volume to new_size (rounded up to 512 bytes); shrinking is
 * refused (SR_BACKEND_FAILURE_79). */
int ops_volume_resize(const char *type, const char *sr, const char *key, int64_t new_size);

/* ---- Garbage collector (docs/gc.md) ----------------------------------- */
enum {
	OPS_GC_ONCE = 1 << 0,     /* one step, then return */
	OPS_GC_IF_IDLE = 1 << 1,  /* return at once if a collector runs */
};
/* Run the SR's collector until nothing is left to do; the number of
 * steps done, or -1. */
int ops_gc_run(const char *type, const char *sr, unsigned flags);
/* {"sr", "running", "journal", "last": what the collector did last}. */
int ops_gc_status(const char *type, const char *sr, struct json_object **out);
/* Start a detached collector for the SR (never fails the caller;
 * LVQCOW_GC_AUTO=0 turns it off). */
void ops_gc_kick(const struct ops_sr *sr);
/* Make the collector let go of volume key's leaf before something else
 * uses it (SR lock held; bounded wait). */
int ops_gc_yield(struct ops_sr *sr, const char *key);
int ops_volume_stat(const char *type, const char *sr, const char *key,
		    struct json_object **result);
int ops_volume_set(const char *type, const char *sr, const char *key,
		   const char *k, const char *v);
int ops_volume_unset(const char *type, const char *sr, const char *key, const char *k);
int ops_volume_set_name(const char *type, const char *sr, const char *key, const char *name);
int ops_volume_set_description(const char *type, const char *sr, const char *key,
			       const char *description);

#endif
