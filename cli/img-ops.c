/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img-ops.c: the whole-image commands of `lvqcow img`: check (and
 * repair), measure and commit.  Output and exit codes follow qemu-img's
 * (check: 0 clean, 1 check failed, 2 corrupt, 3 leaks only, 63 cannot be
 * checked), so scripts written for qemu-img keep working. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "img.h"
#include "lq/err.h"
#include "lq/qcow2.h"

/* --output json|human, as qemu-img spells --json. */
static int parse_output(const char *s, bool *json)
{
	if (strcmp(s, "json") && strcmp(s, "human"))
		return -1;
	*json = !strcmp(s, "json");
	return 0;
}

/* ---- check ---- */

static void print_check_json(const char *path, const struct qcow2_check_result *r)
{
	printf("{\n    \"filename\": \"%s\",\n    \"format\": \"qcow2\",\n"
	       "    \"check-errors\": %" PRIu64, path, r->check_errors);
#define FIELD(name, v) if (v) printf(",\n    \"" name "\": %" PRIu64, (uint64_t)(v))
	FIELD("image-end-offset", r->image_end_offset);
	FIELD("corruptions", r->corruptions);
	FIELD("leaks", r->leaks);
	FIELD("corruptions-fixed", r->corruptions_fixed);
	FIELD("leaks-fixed", r->leaks_fixed);
	FIELD("total-clusters", r->total_clusters);
	FIELD("allocated-clusters", r->allocated_clusters);
	FIELD("fragmented-clusters", r->fragmented_clusters);
	FIELD("compressed-clusters", r->compressed_clusters);
#undef FIELD
	printf("\n}\n");
}

static void print_check_human(const struct qcow2_check_result *r)
{
	if (r->leaks_fixed || r->corruptions_fixed)
		printf("The following inconsistencies were found and repaired:\n\n"
		       "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
		       "Double checking the fixed image now...\n",
		       r->leaks_fixed, r->corruptions_fixed);
	if (r->corruptions)
		printf("\n%" PRIu64 " errors were found on the image.\nData may be corrupted, "
		       "or further writes to the image may corrupt it.\n", r->corruptions);
	if (r->leaks)
		printf("\n%" PRIu64 " leaked clusters were found on the image.\nThis means waste "
		       "of disk space, but no harm to data.\n", r->leaks);
	if (r->check_errors)
		printf("\n%" PRIu64 " internal errors have occurred during the check.\n",
		       r->check_errors);
	if (!r->corruptions && !r->leaks && !r->check_errors)
		printf("No errors were found on the image.\n");
	if (r->total_clusters && r->allocated_clusters)
		printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, "
		       "%0.2f%% compressed clusters\n", r->allocated_clusters, r->total_clusters,
		       100.0 * r->allocated_clusters / r->total_clusters,
		       100.0 * r->fragmented_clusters / r->allocated_clusters,
		       100.0 * r->compressed_clusters / r->allocated_clusters);
	if (r->image_end_offset)
		printf("Image end offset: %" PRIu64 "\n", r->image_end_offset);
}

/* 1, as qemu-img: 2 and 3 mean corrupt and leaky images here. */
static int check_usage(const char *usage)
{
	fprintf(stderr, "lvqcow img check: %s\n", usage);
	return 1;
}

static int parse_repair(const char *s, int *flags)
{
	if (!strcmp(s, "leaks"))
		*flags = QCOW2_REPAIR_LEAKS;
	else if (!strcmp(s, "all"))
		*flags = QCOW2_REPAIR_LEAKS | QCOW2_REPAIR_ALL;
	else
		return -1;
	return 0;
}

int cli_img_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: check [-r|--repair leaks|all] [--json] [-q] FILE";
	struct qcow2_check_result r;
	bool json = false, quiet = false;
	int flags = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:jq", opts, NULL)) != -1) {
		if ((c == 'r' && parse_repair(optarg, &flags) < 0) ||
		    (c == 'o' && parse_output(optarg, &json) < 0) || c == '?')
			return check_usage(usage);
		json |= c == 'j';
		quiet |= c == 'q';
	}
	if (optind != argc - 1)
		return check_usage(usage);
	rc = qcow2_check(argv[optind], flags, &r);
	if (r.msg[0]) {
		fprintf(stderr, "lvqcow img check: %s: %s\n", argv[optind], r.msg);
		return rc;
	}
	if (json)
		print_check_json(argv[optind], &r);
	else if (!quiet)
		print_check_human(&r);
	return rc;
}

/* ---- measure ---- */

struct measure_args {
	uint64_t size;
	bool has_size, json, extl2;
	uint32_t cluster_size;
	int refcount_bits;
	const char *file;
};

static int parse_measure(int argc, char **argv, struct measure_args *a)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "cluster-size", required_argument, NULL, 'c' },
		{ "refcount-bits", required_argument, NULL, 'r' },
		{ "extended-l2", no_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '?' || (c == 'o' && parse_output(optarg, &a->json) < 0))
			return -1;
		if (c == 'o')
			continue;
		if (c == 'j' || c == 'x') {
			*(c == 'j' ? &a->json : &a->extl2) = true;
			continue;
		}
		if (img_parse_size(optarg, &v) < 0 || (c != 's' && v > INT32_MAX))
			return -1;
		if (c == 's')
			a->size = v, a->has_size = true;
		else if (c == 'c')
			a->cluster_size = (uint32_t)v;
		else
			a->refcount_bits = (int)v;
	}
	if (optind < argc)
		a->file = argv[optind++];
	return optind == argc && (a->file != NULL) != a->has_size ? 0 : -1;
}

static int measure_file(struct measure_args *a, struct qcow2_measure *m)
{
	struct qcow2_image *img;
	int rc;

	if (qcow2_open(a->file, QCOW2_OPEN_ANY_BACKING, &img) < 0)
		return -1;
	rc = qcow2_measure_image(img, a->cluster_size, a->refcount_bits, a->extl2, m);
	qcow2_close(img);
	return rc;
}

int cli_img_measure(int argc, char **argv)
{
	struct measure_args a = { 0 };
	struct qcow2_measure m;

	if (parse_measure(argc, argv, &a) < 0)
		return img_usage("measure", "usage: measure [--cluster-size N] [--refcount-bits N] "
				 "[--extended-l2] [--json] (--size N | FILE)");
	if (a.file ? measure_file(&a, &m) < 0
		   : qcow2_measure(a.size, a.cluster_size, a.refcount_bits, a.extl2, &m) < 0)
		return img_fail("measure");
	if (a.json && a.file)
		printf("{\n    \"bitmaps\": %" PRIu64 ",\n", m.bitmaps);
	else if (a.json)
		printf("{\n");
	if (a.json)
		printf("    \"required\": %" PRIu64 ",\n    \"fully-allocated\": %" PRIu64 "\n}\n",
		       m.required, m.fully_allocated);
	else
		printf("required size: %" PRIu64 "\nfully allocated size: %" PRIu64 "\n",
		       m.required, m.fully_allocated);
	if (!a.json && a.file)
		printf("bitmaps size: %" PRIu64 "\n", m.bitmaps);
	return 0;
}

/* ---- commit ---- */

static int show_progress(uint64_t done, uint64_t total, void *opaque)
{
	fprintf(stderr, "\r    (%.2f/100%%)", total ? 100.0 * done / total : 100.0);
	if (done == total)
		fputc('\n', stderr);
	return 0;
}

int cli_img_commit(int argc, char **argv)
{
	bool quiet = false, progress = false;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "qp")) != -1) {
		if (c == '?')
			return img_usage("commit", "usage: commit [-q] [-p] FILE");
		quiet |= c == 'q';
		progress |= c == 'p';
	}
	if (optind != argc - 1)
		return img_usage("commit", "usage: commit [-q] [-p] FILE");
	if (qcow2_commit(argv[optind], QCOW2_OPEN_ANY_BACKING, progress ? show_progress : NULL, NULL) < 0)
		return img_fail("commit");
	if (!quiet)
		printf("Image committed.\n");
	return 0;
}
