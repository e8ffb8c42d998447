/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store: where an SR's images and its metadata document live.
 *
 * One interface, one implementation per SR type: "fileqcow" keeps every
 * node as a file in a directory, "lvqcow" one logical volume per node in
 * a volume group (docs/lvm-store.md).  ops reaches a store only through the store_*
 * wrappers below, which choose the implementation from the SR type and
 * check the lock rule once: anything that changes the SR needs the SR
 * lock held exclusively (an internal invariant, asserted).  Image names
 * are store-relative and derived from immutable node uuids; the store
 * refuses any name not of its own form, so a damaged document cannot make
 * it touch anything else.
 *
 * A store handle names one SR root (for the directory store: the SR
 * directory).  The SR lock and the document commit are the store's
 * because their mechanics differ (a lock file and rename for a directory;
 * the VG lock and metadata slots for LVM).
 *
 * Unreferenced images are never deleted on sight: they are moved into the
 * store's quarantine, which keeps them under a name carrying the time they
 * were set aside, until a later sweep removes them (see ops_sr_sweep).
 */
#ifndef LQ_STORE_H
#define LQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct json_object;
struct store;

enum store_lock {
	STORE_UNLOCKED,
	STORE_SHARED,     /* reading: many at once, works on a read-only fs */
	STORE_EXCLUSIVE,  /* changing anything */
};

/* A quarantined image: the store's name for the entry, the image name it
 * had, and when it was set aside. */
struct store_quarantined {
	const char *entry;
	const char *image;
	time_t since;
};

typedef int (*store_image_fn)(const char *image, void *arg);
typedef int (*store_quarantine_fn)(const struct store_quarantined *q, void *arg);
/* Is the lasting holder (a name given to store_images_hold) still needed? */
typedef bool (*store_holder_fn)(const char *holder, void *arg);

/* One implementation.  The wrappers below document the operations. */
struct store_ops {
	const char *type;
	int (*sr_config)(struct json_object *config, const char *uuid, char **root);
	int (*open)(const char *root, struct store **out);
	/* Whether root has this type's own SR string form (NULL: any root
	 * no other type claims, a directory). */
	bool (*root_claimed)(const char *root);
	void (*close)(struct store *s);
	int (*sr_prepare)(struct store *s, struct json_object *config);
	bool (*sr_exists)(struct store *s);
	int (*sr_remove)(struct store *s);
	int (*lock)(struct store *s, enum store_lock mode);
	void (*unlock)(struct store *s);
	int (*meta_open)(struct store *s, bool writable, int *fd);
	int (*meta_build)(struct store *s, int (*fill)(int fd, void *arg), void *arg);
	bool (*image_name_ok)(const char *image);
	int (*node_alloc)(struct store *s, const char *node_uuid, uint64_t room,
			  char *image, size_t n);
	int (*image_create)(struct store *s, const char *image, int *fd);
	/* NULL where images grow on demand and need no activation. */
	int (*image_fit)(struct store *s, const char *image, uint64_t bytes);
	int (*image_reserve)(struct store *s, const char *image, uint64_t bytes);
	int (*images_hold)(struct store *s, const char *const *images, size_t n,
			   const char *holder, uint64_t first_room);
	int (*holder_release)(struct store *s, const char *holder);
	int (*holder_release_fit)(struct store *s, const char *holder, const char *image,
				  uint64_t bytes);
	int (*holders_prune)(struct store *s, store_holder_fn needed, void *arg);
	int (*nodes_remove)(struct store *s, const char *const *images, size_t n);
	/* Each removal costs a command of its own (LVM: a metadata commit
	 * and a device scan), so Volume.destroy leaves its images to the
	 * collector, which removes them in one. */
	bool remove_later;
	int (*image_path)(struct store *s, const char *image, char *buf, size_t n);
	int (*image_size)(struct store *s, const char *image, uint64_t *bytes);
	int (*image_list)(struct store *s, store_image_fn fn, void *arg);
	int (*space)(struct store *s, uint64_t *free_bytes, uint64_t *total_bytes);
	int (*quarantine)(struct store *s, const char *image, time_t now);
	int (*quarantine_list)(struct store *s, store_quarantine_fn fn, void *arg);
	int (*quarantine_remove)(struct store *s, const char *entry);
	int (*quarantine_restore)(struct store *s, const char *entry);
};

struct store {
	const struct store_ops *ops;
	char *root;
	enum store_lock lock;    /* maintained by the wrappers */
};

/* Is there a store for this SR type? */
bool store_type_known(const char *type);
/* Check device-config and canonicalise it into the SR string (malloc'd);
 * changes nothing.  uuid is the new SR's at SR.create, else NULL (the
 * store may then look the SR up on the device the config names). */
int store_sr_config(const char *type, struct json_object *config, const char *uuid,
		    char **root);
/* Open the store at root (an SR or a place for one); no lock is taken. */
int store_open(const char *type, const char *root, struct store **out);
/* The SR type an SR string belongs to, for tools given only the string:
 * the type whose form it has, else the type without a form of its own. */
const char *store_type_of_root(const char *root);
/* Drops the lock with the handle; NULL is ignored. */
void store_close(struct store *s);

/* Take the SR lock; waits at most LVQCOW_LOCK_TIMEOUT_MS (default
 * STORE_LOCK_TIMEOUT_MS) and then fails naming the SR. */
#define STORE_LOCK_TIMEOUT_MS 180000
int store_lock(struct store *s, enum store_lock mode);
void store_unlock(struct store *s);

/* Lay out an empty SR (everything but the document) on what the
 * device-config names; a layout a crashed SR.create left is reused. */
int store_sr_prepare(struct store *s, struct json_object *config);
/* Does the store hold an SR document (false without error if not)? */
bool store_sr_exists(struct store *s);
/* Remove the SR's layout (exclusive lock, the caller emptied the SR):
 * first check that everything to remove is the store's own, refusing
 * and changing nothing otherwise; then the document (the commit point),
 * then the rest. */
int store_sr_remove(struct store *s);

/* The SR's metadata area, opened for meta's own block I/O (the caller
 * closes *fd): read under any lock, writable only exclusively.
 * Sr_not_exist when there is none. */
int store_meta_open(struct store *s, bool writable, int *fd);
/* SR.create: fill a new area beside its final place, then publish it
 * atomically; the SR exists from then on. */
int store_meta_build(struct store *s, int (*fill)(int fd, void *arg), void *arg);

/* Is image a name of the store's own form? */
bool store_image_name_ok(const struct store *s, const char *image);
/* Reserve room bytes for a new node and name its image (exclusive
 * lock); the qcow2 image is then written through store_image_create. */
int store_node_alloc(struct store *s, const char *node_uuid, uint64_t room,
		     char *image, size_t n);
/* Open a just allocated image for writing its first contents (*fd is the
 * caller's to close). */
int store_image_create(struct store *s, const char *image, int *fd);
/* Does the store give each image a fixed room (which then must be fitted
 * with store_image_fit before the image grows, and after it shrank)? */
bool store_sizes_images(const struct store *s);
/* Make an image's room exactly bytes (rounded up as the store must);
 * nothing where images grow on demand. */
int store_image_fit(struct store *s, const char *image, uint64_t bytes);
/* Make an image's room at least bytes, never smaller (an image with more
 * keeps it until a fit); nothing where images grow on demand. */
int store_image_reserve(struct store *s, const char *image, uint64_t bytes);
/* Activation.  store_image_path makes an image usable by this process
 * until store_close.  A holder (a name of [A-Za-z0-9._-], like
 * "dp-<volume>") keeps an image usable beyond the process, on this host,
 * until store_holder_release drops that holder from every image it
 * holds; an image no holder and no live process holds is deactivated.
 * A NULL holder is this process, beyond the handle's life: released by
 * store_holder_release(s, NULL), or recognised as gone once the process
 * is (the collector holds a pair across its unlocked copy this way).
 * Both do nothing where images need no activation. */
int store_image_hold(struct store *s, const char *image, const char *holder);
/* The same for n images at once (a chain: one activation, not n). */
int store_images_hold(struct store *s, const char *const *images, size_t n,
		      const char *holder);
/* The same, where images[0], if not active yet, first grows to at least
 * first_room, while that changes metadata only (LVM: growing an active
 * LV reloads its device, which costs far more).  A hint: should the
 * growth fail, the hold goes on, and the caller reserves the room once
 * the image is active.  The holder is recorded before the growth, so a
 * prune of a holder left by a killed call finds the grown image. */
int store_images_hold_room(struct store *s, const char *const *images, size_t n,
			   const char *holder, uint64_t first_room);
/* The holder of the metadata area while the SR is attached on this host
 * (taken by the store when the area is first opened, released by
 * SR.detach). */
#define STORE_SR_HOLDER "sr"
int store_holder_release(struct store *s, const char *holder);
/* store_holder_release, and this process's own hold on image (taken by
 * store_image_path) with it, then image's room fitted to bytes
 * (store_image_fit; 0: left as it is).  LVM lets go of both in one
 * command, and fits the LV once it is no longer active, its size known
 * from its device before: no report, and no device reload. */
int store_holder_release_fit(struct store *s, const char *holder, const char *image,
			     uint64_t bytes);
/* Forget the holds of processes that are gone (killed calls), and the
 * lasting holders that needed (NULL: none) says are not needed any more,
 * releasing what only they held.  needed is asked once per image a
 * holder holds, under the store's activation lock: it must not call the
 * store. */
int store_holders_prune(struct store *s, store_holder_fn needed, void *arg);
/* Remove a node's image (exclusive lock); absent is not an error. */
int store_node_remove(struct store *s, const char *image);
/* The same for n images at once. */
int store_nodes_remove(struct store *s, const char *const *images, size_t n);
/* Should removals be batched by the collector (ops.remove_later)? */
bool store_remove_later(const struct store *s);
/* The path of an image for the qcow2 engine; fails unless the name is of
 * the store's form and names a regular file or nothing. */
int store_image_path(struct store *s, const char *image, char *buf, size_t n);
/* Bytes the image occupies in the store. */
int store_image_size(struct store *s, const char *image, uint64_t *bytes);
/* Call fn for every name present where images live, whatever its form. */
int store_image_list(struct store *s, store_image_fn fn, void *arg);
int store_space(struct store *s, uint64_t *free_bytes, uint64_t *total_bytes);

/* Quarantine (all changes exclusive).  Set an image aside at time now;
 * list the quarantined images (entries not of the store's form are never
 * listed nor touched); remove one for good; move one back to its image
 * name (fails if that name is taken). */
int store_quarantine(struct store *s, const char *image, time_t now);
int store_quarantine_list(struct store *s, store_quarantine_fn fn, void *arg);
int store_quarantine_remove(struct store *s, const char *entry);
int store_quarantine_restore(struct store *s, const char *entry);

extern const struct store_ops store_file_ops;
extern const struct store_ops store_lvm_ops;

#endif
