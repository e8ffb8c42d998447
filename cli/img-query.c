/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img-query.c: read-only reports: info, map, allocated, bitmap. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img.h"
#include "lq/qcow2.h"

#define MAP_BATCH 1024

/* The whole chain if it opens, else this image alone (depth unknown). */
static struct qcow2_image *open_for_info(const char *path, bool *whole)
{
	struct qcow2_image *img;

	*whole = true;
	if (qcow2_open(path, QCOW2_OPEN_ANY_BACKING, &img) == 0)
		return img;
	*whole = false;
	if (qcow2_open(path, QCOW2_OPEN_NO_BACKING, &img) < 0) {
		img_fail("info");
		return NULL;
	}
	fprintf(stderr, "lvqcow img info: warning: backing chain of %s does not open\n", path);
	return img;
}

static void add_i(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_b(json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static void print_json(const char *path, const struct qcow2_info *in, bool whole)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "filename", json_object_new_string(path));
	json_object_object_add(o, "format", json_object_new_string("qcow2"));
	add_i(o, "virtual-size", (int64_t)in->virtual_size);
	add_i(o, "cluster-size", in->cluster_size);
	json_object_object_add(o, "compat", json_object_new_string(in->version == 2 ? "0.10" : "1.1"));
	add_i(o, "refcount-bits", in->refcount_bits);
	if (in->backing[0])
		json_object_object_add(o, "backing-filename", json_object_new_string(in->backing));
	if (in->backing_fmt[0])
		json_object_object_add(o, "backing-filename-format",
				       json_object_new_string(in->backing_fmt));
	add_b(o, "hidden", in->hidden);
	add_b(o, "dirty-flag", in->dirty);
	add_b(o, "corrupt", in->corrupt);
	add_b(o, "lazy-refcounts", in->lazy_refcounts);
	add_b(o, "extended-l2", in->extended_l2);
	add_i(o, "image-end-offset", (int64_t)in->image_end_offset);
	add_i(o, "allocated-bytes", (int64_t)in->allocated_bytes);
	add_i(o, "compressed-bytes", (int64_t)in->compressed_bytes);
	add_i(o, "file-size", (int64_t)in->file_size);
	if (whole)
		add_i(o, "chain-depth", in->depth);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_text(const char *path, const struct qcow2_info *in, bool whole)
{
	printf("image: %s\nfile format: qcow2\n", path);
	printf("virtual size: %" PRIu64 " bytes\n", in->virtual_size);
	printf("cluster_size: %u\n", in->cluster_size);
	if (in->backing[0])
		printf("backing file: %s\n", in->backing);
	if (in->backing_fmt[0])
		printf("backing file format: %s\n", in->backing_fmt);
	printf("compat: %s\nrefcount bits: %d\n", in->version == 2 ? "0.10" : "1.1",
	       in->refcount_bits);
	printf("hidden: %s\ncorrupt: %s\ndirty: %s\n", in->hidden ? "true" : "false",
	       in->corrupt ? "true" : "false", in->dirty ? "true" : "false");
	printf("image end offset: %" PRIu64 "\nallocated bytes: %" PRIu64 "\n",
	       in->image_end_offset, in->allocated_bytes);
	printf("compressed bytes: %" PRIu64 "\n", in->compressed_bytes);
	if (whole)
		printf("chain depth: %d\n", in->depth);
}

int img_info(int argc, char **argv)
{
	bool json = false, whole;
	struct qcow2_image *img;
	struct qcow2_info in;
	int rc = 0;

	if (argc == 3 && !strcmp(argv[1], "--json"))
		json = true;
	else if (argc != 2)
		return img_usage("info", "expected [--json] FILE");
	img = open_for_info(argv[argc - 1], &whole);
	if (!img)
		return 1;
	if (qcow2_get_info(img, &in) < 0)
		rc = img_fail("info");
	else if (json)
		print_json(argv[argc - 1], &in, whole);
	else
		print_text(argv[argc - 1], &in, whole);
	return img_close("info", img, rc);
}

/* --- map --- */

static void print_extent(const struct qcow2_chain_extent *x, bool first)
{
	printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, "
	       "\"present\": %s, \"zero\": %s, \"data\": %s",
	       first ? "" : ",\n", x->off, x->len, x->depth, x->present ? "true" : "false",
	       x->zero ? "true" : "false", x->data ? "true" : "false");
	if (x->has_off)
		printf(", \"offset\": %" PRIu64, x->host_off);
	printf("}");
}

static int map_all(struct qcow2_image *img)
{
	struct qcow2_chain_extent *x = malloc(MAP_BATCH * sizeof *x);
	uint64_t off = 0, vs = qcow2_virtual_size(img);
	bool first = true;

	if (!x) {
		fprintf(stderr, "lvqcow img map: out of memory\n");
		return 1;
	}
	printf("[");
	while (off < vs) {
		int n = qcow2_map_chain(img, off, vs - off, x, MAP_BATCH);

		if (n < 0) {
			free(x);
			printf("]\n");
			return img_fail("map");
		}
		for (int i = 0; i < n; i++, first = false) {
			print_extent(&x[i], first);
			off += x[i].len;
		}
	}
	printf("]\n");
	free(x);
	return 0;
}

int img_map(int argc, char **argv)
{
	struct qcow2_image *img;

	if (argc != 3 || strcmp(argv[1], "--json"))
		return img_usage("map", "expected --json FILE");
	img = img_open("map", argv[2], 0);
	if (!img)
		return 1;
	return img_close("map", img, map_all(img));
}

int img_allocated(int argc, char **argv)
{
	struct qcow2_image *img;
	struct qcow2_info in;
	int rc = 0;

	if (argc != 2)
		return img_usage("allocated", "expected FILE");
	img = img_open("allocated", argv[1], QCOW2_OPEN_NO_BACKING);
	if (!img)
		return 1;
	if (qcow2_get_info(img, &in) < 0)
		rc = img_fail("allocated");
	else
		printf("%" PRIu64 "\n", in.allocated_bytes);
	return img_close("allocated", img, rc);
}

/* --- bitmap --- */

int img_bitmap(int argc, char **argv)
{
	struct qcow2_image *img;
	uint8_t *bm = NULL;
	uint64_t vs;
	uint32_t cs;
	size_t bytes;
	int rc = 0;

	if (argc != 2)
		return img_usage("bitmap", "expected FILE");
	img = img_open("bitmap", argv[1], QCOW2_OPEN_NO_BACKING);
	if (!img)
		return 1;
	vs = qcow2_virtual_size(img);
	cs = qcow2_cluster_size(img);
	if (!cs) {
		fprintf(stderr, "lvqcow img bitmap: %s is not a qcow2 image\n", argv[1]);
		return img_close("bitmap", img, 1);
	}
	bytes = (size_t)((vs + cs - 1) / cs + 7) / 8;
	bm = calloc(1, bytes + 1);
	if (!bm || qcow2_allocation_bitmap(img, bm) < 0)
		rc = img_fail("bitmap");
	else if (fwrite(bm, 1, bytes, stdout) != bytes || fflush(stdout))
		rc = 1, fprintf(stderr, "lvqcow img bitmap: write to stdout failed\n");
	free(bm);
	return img_close("bitmap", img, rc);
}
