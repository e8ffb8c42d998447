/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create.c: new empty images.
 *
 * Layout: header cluster, refcount table, refcount blocks, L1 table, each
 * contiguous, sized together by a fixed point (the blocks must count
 * themselves).  The header is written last, after the rest is durable,
 * so an interrupted create never leaves something that looks like a
 * valid image.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "qcow2-int.h"

struct layout {
	uint64_t cs;
	uint64_t l1_clusters, rt_clusters, rb_clusters, total;
};

static int check_opts(const struct qcow2_create_opts *o, struct qcow2_header *h)
{
	uint32_t cs = o->cluster_size ? o->cluster_size : QCOW2_DEFAULT_CLUSTER_SIZE;
	int rb = o->refcount_bits ? o->refcount_bits : 16;
	int compat = o->compat ? o->compat : 3;

	if (!is_power_of_2(cs) || cs < 512 || cs > (2u << 20))
		return err_set(EINVAL, "invalid cluster size %u (a power of two, 512 B to 2 MiB)", cs);
	if (!is_power_of_2((uint64_t)rb) || rb > 64)
		return err_set(EINVAL, "invalid refcount bits %d (1, 2, 4, ... 64)", rb);
	if (compat != 2 && compat != 3)
		return err_set(EINVAL, "invalid compat level %d (2 for 0.10, 3 for 1.1)", compat);
	if (compat == 2 && rb != 16)
		return err_set(EINVAL, "compat 0.10 images need 16 refcount bits");
	if (o->size > QCOW2_MAX_VIRTUAL_SIZE)
		return err_set(EINVAL, "virtual size %llu above the 16 TiB limit",
			       (unsigned long long)o->size);
	if (o->backing && strlen(o->backing) > QCOW2_MAX_BACKING_NAME)
		return err_set(EINVAL, "backing file name longer than 1023 bytes");
	if (o->backing_fmt && strcmp(o->backing_fmt, "qcow2") && strcmp(o->backing_fmt, "raw"))
		return err_set(EINVAL, "unsupported backing format '%s'", o->backing_fmt);
	if (o->backing_fmt && !o->backing)
		return err_set(EINVAL, "backing format given without a backing file");
	h->version = (uint32_t)compat;
	h->cluster_bits = (uint32_t)__builtin_ctz(cs);
	h->refcount_order = (uint32_t)__builtin_ctz((unsigned)rb);
	h->size = (o->size + 511) & ~511ull;
	return 0;
}

static int plan_layout(struct qcow2_header *h, struct layout *l)
{
	uint64_t per_block, rt = 1, rb = 1, l1b;

	l->cs = 1ull << h->cluster_bits;
	per_block = l->cs * 8 >> h->refcount_order;
	h->l1_size = (uint32_t)qcow2_size_to_l1(h, h->size);
	l1b = (uint64_t)h->l1_size * 8;
	if (l1b > QCOW2_MAX_L1_BYTES)
		return err_set(EINVAL, "virtual size too large for %llu-byte clusters",
			       (unsigned long long)l->cs);
	l->l1_clusters = DIV_ROUND_UP(l1b, l->cs);
	for (;;) {
		uint64_t total = 1 + rt + rb + l->l1_clusters;
		uint64_t nrb = DIV_ROUND_UP(total, per_block);
		uint64_t nrt = DIV_ROUND_UP(nrb * 8, l->cs);

		if (nrb == rb && nrt == rt)
			break;
		rb = nrb;
		rt = nrt;
	}
	if (rt * l->cs > QCOW2_MAX_REFTABLE_BYTES)
		return err_set(EINVAL, "refcount table would be too large");
	l->rt_clusters = rt;
	l->rb_clusters = rb;
	l->total = 1 + rt + rb + l->l1_clusters;
	return 0;
}

static void fill_header(const struct qcow2_create_opts *o, const struct layout *l,
			struct qcow2_header *h)
{
	h->refcount_table_offset = l->cs;
	h->refcount_table_clusters = (uint32_t)l->rt_clusters;
	h->l1_table_offset = h->l1_size ? (1 + l->rt_clusters + l->rb_clusters) * l->cs : 0;
	if (h->version >= 3)
		h->header_length = QCOW2_V3_HEADER_LEN + 8; /* + compression type, padding */
	else
		h->header_length = QCOW2_V2_HEADER_LEN;
	if (o->backing)
		snprintf(h->backing_file, sizeof h->backing_file, "%s", o->backing);
	if (o->backing_fmt)
		snprintf(h->backing_fmt, sizeof h->backing_fmt, "%s", o->backing_fmt);
}

/* Reftable and refcount blocks: clusters [0, total) have refcount 1. */
static int write_refcounts(int fd, const struct qcow2_header *h, const struct layout *l)
{
	uint64_t bytes = (l->rt_clusters + l->rb_clusters) * l->cs;
	uint64_t per_block = l->cs * 8 >> h->refcount_order;
	CLEANUP_FREE uint8_t *buf = calloc(1, bytes);
	uint8_t *blocks;

	if (!buf)
		return err_set(ENOMEM, "out of memory");
	blocks = buf + l->rt_clusters * l->cs;
	for (uint64_t i = 0; i < l->rb_clusters; i++)
		be64_put(buf + i * 8, (1 + l->rt_clusters + i) * l->cs);
	for (uint64_t c = 0; c < l->total; c++)
		qcow2_rc_put_bits(blocks + c / per_block * l->cs, c % per_block,
				  h->refcount_order, 1);
	return qcow2_io_write(fd, buf, bytes, l->cs);
}

/* The L1 must read as zeros: sparse on a regular file, written out on a
 * device (which may hold anything). */
static int zero_l1(int fd, const struct qcow2_header *h, const struct layout *l)
{
	struct stat st;
	uint64_t off = h->l1_table_offset, left = l->l1_clusters * l->cs;
	CLEANUP_FREE uint8_t *z = NULL;

	if (fstat(fd, &st) < 0)
		return err_sys("fstat: %m");
	if (S_ISREG(st.st_mode))
		return ftruncate(fd, (off_t)(l->total * l->cs)) < 0
			       ? err_sys("ftruncate: %m") : 0;
	z = calloc(1, 1 << 20);
	if (!z)
		return err_set(ENOMEM, "out of memory");
	while (left) {
		uint64_t n = MIN(left, 1u << 20);

		if (qcow2_io_write(fd, z, n, off) < 0)
			return -1;
		off += n;
		left -= n;
	}
	return 0;
}

static int write_image(int fd, const struct qcow2_create_opts *o, struct qcow2_header *h)
{
	struct layout l = { 0 };
	CLEANUP_FREE uint8_t *hdr = NULL;
	struct stat st;

	if (plan_layout(h, &l) < 0)
		return -1;
	fill_header(o, &l, h);
	if (qcow2_header_set_hidden(h, o->hidden) < 0)
		return -1;
	hdr = malloc(l.cs);
	if (!hdr)
		return err_set(ENOMEM, "out of memory");
	if (qcow2_header_encode(h, hdr, (uint32_t)l.cs) < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0)
		return err_sys("ftruncate: %m");
	if (write_refcounts(fd, h, &l) < 0 || zero_l1(fd, h, &l) < 0 || qcow2_io_sync(fd) < 0)
		return -1;
	if (qcow2_io_write(fd, hdr, l.cs, 0) < 0)
		return -1;
	return qcow2_io_sync(fd);
}

int qcow2_create_fd(int fd, const struct qcow2_create_opts *o)
{
	struct qcow2_header h;
	int r;

	memset(&h, 0, sizeof h);
	if (check_opts(o, &h) < 0)
		return -1;
	r = write_image(fd, o, &h);
	qcow2_header_free(&h);
	return r;
}

int qcow2_create(const char *path, const struct qcow2_create_opts *o)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return err_sys("create %s: %m", path);
	if (qcow2_create_fd(fd, o) < 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0)
		return err_sys("close %s: %m", path);
	return 0;
}
