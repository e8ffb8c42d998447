/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trim.c: qcow2_trim, giving back the file space past the image end.
 *
 * A coalesce that carries zeros into a node, or a discard, frees
 * clusters; when they lie at the end, the file keeps their space until
 * it is cut to the image end (the end of the last cluster with a
 * refcount).  Only regular files are cut: a block device's size belongs
 * to its store (the LVM store shrinks the logical volume).  Cutting is
 * safe at any moment the caller holds the only writer: nothing past the
 * image end is referenced, and a crash before or after the cut leaves a
 * valid image either way.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "lq/err.h"
#include "qcow2-int.h"

int qcow2_trim(struct qcow2_image *img, uint64_t *freed)
{
	struct qcow2_info in;
	struct stat st;
	uint64_t size;

	*freed = 0;
	if (!img->rw || img->raw)
		return err_set(EINVAL, "%s: trim needs a qcow2 image opened read-write", img->path);
	if (fstat(img->fd, &st) < 0)
		return err_sys("fstat %s: %m", img->path);
	if (!S_ISREG(st.st_mode))
		return 0;
	/* Frees still queued in memory lower refcounts only once written. */
	if (qcow2_flush(img) < 0 || qcow2_get_info(img, &in) < 0)
		return -1;
	size = (uint64_t)st.st_size;
	if (in.dirty || in.image_end_offset >= size)
		return 0;
	if (ftruncate(img->fd, (off_t)in.image_end_offset) < 0)
		return err_sys("truncate %s: %m", img->path);
	*freed = size - in.image_end_offset;
	return 0;
}
