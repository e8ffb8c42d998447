/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/fit: how much room each image gets where the store gives images a
 * fixed room (LVM; nothing happens on a directory SR).
 *
 * The engine knows the numbers.  An image nothing writes needs exactly
 * its image end.  An image about to be written needs its image end plus
 * every cluster the writes may still allocate: the data (at most
 * extra_data bytes) and, as a bound on new L2 tables and refcount
 * blocks, all the metadata of a fully allocated image of its size.
 *   leaf a guest writes     extra = virtual size - allocated bytes
 *                                   + compressed bytes
 *   coalesce target         extra = the source's allocated bytes
 *   resize                  extra = 0 (only metadata grows)
 * A compressed cluster counts as unallocated: rewriting it takes a whole
 * new cluster.  (This plugin never writes one, but an image may hold
 * them.) */
#include <limits.h>
#include <unistd.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "lq/log.h"
#include "lq/qcow2.h"
#include "lq/store.h"
#include "lq/xerr.h"
#include "ops-int.h"

#define FIT_CLUSTER (64 * 1024)

uint64_t ops_node_room(uint64_t vsize)
{
	struct qcow2_measure m;

	if (qcow2_measure(vsize, FIT_CLUSTER, 16, false, &m) < 0)
		return 0;
	return m.required;
}

static int image_info(struct ops_sr *sr, const char *image, struct qcow2_info *info)
{
	char path[PATH_MAX];
	struct qcow2_image *img;
	int rc;

	if (store_image_path(sr->store, image, path, sizeof path) < 0 ||
	    qcow2_open(path, QCOW2_OPEN_NO_BACKING, &img) < 0)
		return -1;
	rc = qcow2_get_info(img, info);
	if (qcow2_close(img) < 0)
		rc = -1;
	return rc;
}

/* Metadata of a fully allocated image of vsize: a bound on what writes
 * may add. */
static int meta_bound(const struct qcow2_info *info, uint64_t vsize, uint64_t *out)
{
	struct qcow2_measure m;

	if (qcow2_measure(vsize, info->cluster_size, info->refcount_bits, info->extended_l2, &m) < 0)
		return -1;
	*out = m.fully_allocated > vsize ? m.fully_allocated - vsize : 0;
	return 0;
}

static int room_for(const char *image, const struct qcow2_info *info, uint64_t vsize,
		    uint64_t extra_data, uint64_t *room)
{
	uint64_t meta;

	if (meta_bound(info, vsize ? vsize : info->virtual_size, &meta) < 0)
		return -1;
	if (ADD_OVERFLOW(info->image_end_offset, extra_data, room) || ADD_OVERFLOW(*room, meta, room))
		return err_xapi(XERR_INVALID_SIZE, "image %s: room overflows", image);
	return 0;
}

int ops_fit_room(struct ops_sr *sr, const char *image, uint64_t vsize, uint64_t extra_data)
{
	struct qcow2_info info;
	uint64_t room;

	if (!store_sizes_images(sr->store))
		return 0;
	if (image_info(sr, image, &info) < 0 || room_for(image, &info, vsize, extra_data, &room) < 0)
		return -1;
	return store_image_fit(sr->store, image, room);
}

/* One read of the image serves both numbers: on a large image the
 * allocation count walks every L2 table.  Room beyond that is kept: it
 * may come from ops_leaf_room_bound, and the next fit to the image end
 * gives it back. */
int ops_fit_full(struct ops_sr *sr, const char *image, uint64_t vsize)
{
	struct qcow2_info info;
	uint64_t room;

	if (!store_sizes_images(sr->store))
		return 0;
	if (image_info(sr, image, &info) < 0)
		return -1;
	if (!vsize || vsize < info.virtual_size)
		vsize = info.virtual_size;
	uint64_t in_place = info.allocated_bytes - info.compressed_bytes;
	uint64_t extra = vsize > in_place ? vsize - in_place : 0;
	if (room_for(image, &info, vsize, extra, &room) < 0)
		return -1;
	return store_image_reserve(sr->store, image, room);
}

/* What ops_fit_full gives a leaf of vsize written by this plugin, known
 * before the image is read: its room is its image end plus the clusters
 * not yet in place plus the metadata bound, and the image end of such
 * an image is its clusters in place plus its metadata, itself within
 * the bound.  So twice the metadata of a fully allocated image plus
 * vsize.  An image with more (freed clusters inside, compressed ones,
 * another cluster size) is found short once read, and grown then. */
uint64_t ops_leaf_room_bound(uint64_t vsize)
{
	struct qcow2_measure m;

	if (!vsize || qcow2_measure(vsize, FIT_CLUSTER, 16, false, &m) < 0 ||
	    m.fully_allocated < vsize) {
		err_clear();
		return 0;
	}
	return m.fully_allocated + (m.fully_allocated - vsize);
}

int ops_image_end(struct ops_sr *sr, const char *image, uint64_t *end)
{
	struct qcow2_info info;

	*end = 0;
	if (!store_sizes_images(sr->store))
		return 0;
	if (image_info(sr, image, &info) < 0)
		return -1;
	/* Pending lazy refcounts may hide clusters beyond the end. */
	if (!info.dirty)
		*end = info.image_end_offset;
	return 0;
}

int ops_fit_end(struct ops_sr *sr, const char *image)
{
	uint64_t end;

	if (ops_image_end(sr, image, &end) < 0)
		return -1;
	return end ? store_image_fit(sr->store, image, end) : 0;
}

/* Giving space back is housekeeping: its failure leaves room unused,
 * never data at risk, so the caller's work stands. */
void ops_fit_end_quietly(struct ops_sr *sr, const char *image)
{
	if (ops_fit_end(sr, image) < 0) {
		log_warn("SR %s: image %s keeps its room: %s", sr->sr, image, err_last()->msg);
		err_clear();
	}
}

int ops_image_write_new(struct ops_sr *sr, const char *image, const struct qcow2_create_opts *o)
{
	int fd, rc;

	if (store_image_create(sr->store, image, &fd) < 0)
		return -1;
	rc = qcow2_create_fd(fd, o);
	if (close(fd) < 0 && rc == 0)
		rc = err_sys("close image %s: %m", image);
	return rc;
}
