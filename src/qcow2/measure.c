/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* measure.c: the size a new qcow2 image needs, to the byte what
 * qemu-img measure -O qcow2 reports, for an empty image of a given
 * virtual size or for a copy of an existing image's guest view.
 *
 * "fully_allocated" is the header, every L2 table, the L1 and the refcount
 * structures covering all of that plus every data cluster.  "required"
 * keeps that whole metadata estimate (an overestimate by design, so a
 * volume sized from it never runs out while copying) and adds only the
 * data clusters that hold something.
 */
#include <errno.h>

#include "lq/checked.h"
#include "lq/err.h"
#include "lq/qcow2.h"
#include "qcow2-int.h"

/* Refcount blocks and table for `clusters` clusters plus themselves: they
 * must also count their own clusters, so iterate to the fixed point. */
static uint64_t refcount_metadata_bytes(uint64_t clusters, uint64_t cs, int refcount_order)
{
	uint64_t per_table_cluster = cs / 8;
	uint64_t per_block = cs * 8 >> refcount_order;
	uint64_t table = 0, blocks = 0, n = 0, last;

	do {
		last = n;
		blocks = DIV_ROUND_UP(clusters + table + blocks, per_block);
		table = DIV_ROUND_UP(blocks, per_table_cluster);
		n = clusters + blocks + table;
	} while (n != last);
	return (blocks + table) * cs;
}

/* Everything allocated: header, whole L2 tables, L1 in whole clusters,
 * refcounts, and aligned bytes of data. */
static uint64_t prealloc_bytes(uint64_t aligned, uint64_t cs, int refcount_order, bool extl2)
{
	uint64_t l2e = extl2 ? 16 : 8;
	uint64_t meta = cs;
	uint64_t nl2e = DIV_ROUND_UP(aligned / cs, cs / l2e) * (cs / l2e);
	uint64_t nl1e = DIV_ROUND_UP(nl2e * l2e / cs, cs / 8) * (cs / 8);

	meta += nl2e * l2e + nl1e * 8;
	meta += refcount_metadata_bytes((meta + aligned) / cs, cs, refcount_order);
	return meta + aligned;
}

static int refcount_order_of(int refcount_bits, int *order)
{
	if (refcount_bits == 0)
		refcount_bits = 16;
	if (refcount_bits < 1 || refcount_bits > 64 || !is_power_of_2((uint64_t)refcount_bits))
		return err_set(EINVAL, "refcount width %d is not a power of two up to 64", refcount_bits);
	*order = __builtin_ctz((unsigned)refcount_bits);
	return 0;
}

static int check_cluster_size(uint32_t *cs, bool extl2)
{
	if (*cs == 0)
		*cs = QCOW2_DEFAULT_CLUSTER_SIZE;
	if (*cs < 512 || *cs > (2u << 20) || !is_power_of_2(*cs))
		return err_set(EINVAL, "cluster size %u is not a power of two from 512 to 2M", *cs);
	if (extl2 && *cs < 16384)
		return err_set(EINVAL, "extended L2 entries need a cluster size of 16K or more");
	return 0;
}

/* Shared by both entry points: validates, rounds and fills m from the
 * number of data bytes the copy needs. */
static int measure_with_data(uint64_t virtual_size, uint32_t cs, int refcount_bits, bool extl2,
			     uint64_t data_bytes, struct qcow2_measure *m)
{
	uint64_t aligned, l2_tables;
	int order = 4;

	if (check_cluster_size(&cs, extl2) < 0 || refcount_order_of(refcount_bits, &order) < 0)
		return -1;
	if (!align_up_checked(virtual_size, cs, &aligned) || aligned > (UINT64_C(1) << 62))
		return err_set(EINVAL, "image size %llu is too large",
			       (unsigned long long)virtual_size);
	l2_tables = DIV_ROUND_UP(aligned / cs, cs / (extl2 ? 16 : 8));
	if (l2_tables > QCOW2_MAX_L1_BYTES / 8)
		return err_set(EINVAL, "the image size is too large for cluster size %u "
			       "(try a larger cluster size)", cs);
	m->fully_allocated = prealloc_bytes(aligned, cs, order, extl2);
	m->required = m->fully_allocated - aligned + data_bytes;
	m->bitmaps = 0;
	return 0;
}

int qcow2_measure(uint64_t virtual_size, uint32_t cluster_size, int refcount_bits,
		  bool extended_l2, struct qcow2_measure *m)
{
	return measure_with_data(virtual_size, cluster_size, refcount_bits, extended_l2, 0, m);
}

/* Counts the clusters (of the new image's size cs) that hold at least one
 * byte of data in the guest view; zeros and holes need no cluster. */
struct data_counter {
	uint64_t cs;
	uint64_t next;    /* first cluster not yet counted */
	uint64_t bytes;
};

static void count_data_extent(struct data_counter *c, uint64_t off, uint64_t len)
{
	uint64_t first = MAX(off / c->cs, c->next);
	uint64_t end = DIV_ROUND_UP(off + len, c->cs);

	if (end > first) {
		c->bytes += (end - first) * c->cs;
		c->next = end;
	}
}

#define MEASURE_EXTENTS 1024

static int count_image_data(struct qcow2_image *img, uint64_t size, struct data_counter *c)
{
	struct qcow2_extent ext[MEASURE_EXTENTS];
	uint64_t off = 0;

	while (off < size) {
		int n = qcow2_block_status(img, off, size - off, ext, MEASURE_EXTENTS);
		if (n < 0)
			return -1;
		if (n == 0)
			return err_set(EIO, "no allocation status at offset %llu",
				       (unsigned long long)off);
		for (int i = 0; i < n; i++) {
			if (!(ext[i].flags & (QCOW2_EXT_HOLE | QCOW2_EXT_ZERO)))
				count_data_extent(c, ext[i].off, ext[i].len);
			off = ext[i].off + ext[i].len;
		}
	}
	return 0;
}

int qcow2_measure_image(struct qcow2_image *img, uint32_t cluster_size, int refcount_bits,
			bool extended_l2, struct qcow2_measure *m)
{
	uint64_t size = qcow2_virtual_size(img);
	struct data_counter c = { .cs = cluster_size ? cluster_size : QCOW2_DEFAULT_CLUSTER_SIZE };

	if (check_cluster_size(&cluster_size, extended_l2) < 0)
		return -1;
	if (count_image_data(img, size, &c) < 0)
		return -1;
	return measure_with_data(size, cluster_size, refcount_bits, extended_l2, c.bytes, m);
}
