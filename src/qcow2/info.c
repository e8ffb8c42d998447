/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* info.c: qcow2_get_info, the plugin's view of one image.
 *
 * allocated_bytes counts guest bytes whose data lives in this image
 * (data and compressed clusters; zero clusters read as zeros without
 * data and are not counted); compressed_bytes, those of them in
 * compressed clusters.  image_end_offset is the end of the highest
 * cluster with a non-zero refcount, the true physical size.
 */
#include <stdio.h>
#include <string.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "qcow2-int.h"

static int end_offset(struct qcow2_image *img, uint64_t *end)
{
	uint64_t c;
	int r;

	pthread_mutex_lock(&img->lock);
	r = qcow2_refcount_end(img, &c);
	pthread_mutex_unlock(&img->lock);
	*end = c << img->cbits;
	/* Lazy refcounts may undercount: never report less than the file,
	 * or a caller shrinking to this size would cut live clusters. */
	if (img->h.incompatible_features & QCOW2_INCOMPAT_DIRTY)
		*end = MAX(*end, qcow2_io_size(img->fd));
	return r;
}

static void fill_header_info(const struct qcow2_image *img, struct qcow2_info *in)
{
	const struct qcow2_header *h = &img->h;

	memset(in, 0, sizeof *in);
	in->version = (int)h->version;
	in->virtual_size = h->size;
	in->cluster_size = img->cs;
	in->refcount_bits = 1 << h->refcount_order;
	snprintf(in->backing, sizeof in->backing, "%s", h->backing_file);
	snprintf(in->backing_fmt, sizeof in->backing_fmt, "%s", h->backing_fmt);
	in->hidden = h->hidden;
	in->dirty = h->incompatible_features & QCOW2_INCOMPAT_DIRTY;
	in->corrupt = h->incompatible_features & QCOW2_INCOMPAT_CORRUPT;
	in->lazy_refcounts = h->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS;
	in->extended_l2 = img->extl2;
	in->depth = img->depth;
	in->file_size = qcow2_io_size(img->fd);
}

int qcow2_get_info(struct qcow2_image *img, struct qcow2_info *info)
{
	if (img->raw)
		return err_set(EINVAL, "%s: not a qcow2 image", img->path);
	pthread_mutex_lock(&img->lock);
	fill_header_info(img, info);
	pthread_mutex_unlock(&img->lock);
	struct qcow2_alloc a;

	if (qcow2_allocated_bytes(img, &a) < 0 || end_offset(img, &info->image_end_offset) < 0)
		return -1;
	info->allocated_bytes = a.bytes;
	info->compressed_bytes = a.compressed;
	return 0;
}
