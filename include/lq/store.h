/* store: where an SR's images and its metadata document live.
 *
 * One interface, one implementation per SR type: "fileqcow" keeps every
 * node as a file in a directory, "lvqcow" (later) one logical volume per
 * node in a volume group.  ops chooses the implementation from the plugin
 * name and never looks inside.  Image names are store-relative and
 * derived from immutable node uuids, so they never come from a user.
 *
 * A store handle names one SR root (for the directory store: the SR
 * directory).  The SR lock and the document commit are the store's
 * because their mechanics differ (a lock file and rename for a directory;
 * the VG lock and metadata slots for LVM).
 */
#ifndef LQ_STORE_H
#define LQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct store;

struct store_ops {
	const char *type;
	/* Check device-config and canonicalise it into the SR string
	 * (malloc'd); touches nothing. */
	int (*sr_config)(struct json_object *config, char **root);
	/* Lay out an empty SR at root (everything but the document). */
	int (*sr_prepare)(const char *root);
	int (*open)(const char *root, struct store **out);
	void (*close)(struct store *s);
	/* Does root hold an SR (false without error if not)? */
	bool (*sr_exists)(const char *root);
	/* Remove the SR's layout: the document first (the commit point),
	 * then the rest; the caller holds the lock and has emptied the SR. */
	int (*sr_remove)(struct store *s);
	int (*lock)(struct store *s);
	void (*unlock)(struct store *s);
	int (*meta_read)(struct store *s, char **buf, size_t *len);
	int (*meta_write)(struct store *s, const char *buf, size_t len);
	/* Reserve room for a node of virtual size and name its image; the
	 * qcow2 image is then written at image_path. */
	int (*node_alloc)(struct store *s, const char *node_uuid, uint64_t vsize,
			  char *image, size_t n);
	int (*node_remove)(struct store *s, const char *image);
	int (*image_path)(struct store *s, const char *image, char *buf, size_t n);
	/* Bytes the image occupies in the store. */
	int (*image_size)(struct store *s, const char *image, uint64_t *bytes);
	/* Call fn for every image name present (for the orphan sweep). */
	int (*image_list)(struct store *s, int (*fn)(const char *image, void *arg), void *arg);
	int (*space)(struct store *s, uint64_t *free_bytes, uint64_t *total_bytes);
};

struct store {
	const struct store_ops *ops;
	char *root;
};

/* The implementation for an SR type, or NULL. */
const struct store_ops *store_find(const char *type);
extern const struct store_ops store_file_ops;

#endif
