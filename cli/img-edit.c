/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img-edit.c: commands that create images or change headers: create,
 * resize, rebase -u, set-hidden. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img.h"
#include "lq/qcow2.h"

enum { OPT_CLUSTER = 256, OPT_COMPAT, OPT_REFBITS, OPT_HIDDEN };

static const struct option create_opts[] = {
	{ "cluster-size", required_argument, NULL, OPT_CLUSTER },
	{ "compat", required_argument, NULL, OPT_COMPAT },
	{ "refcount-bits", required_argument, NULL, OPT_REFBITS },
	{ "hidden", no_argument, NULL, OPT_HIDDEN },
	{ NULL, 0, NULL, 0 },
};

static int parse_compat(const char *s, int *out)
{
	if (!strcmp(s, "0.10") || !strcmp(s, "v2") || !strcmp(s, "2"))
		*out = 2;
	else if (!strcmp(s, "1.1") || !strcmp(s, "v3") || !strcmp(s, "3"))
		*out = 3;
	else
		return -1;
	return 0;
}

static int create_opt(int c, struct qcow2_create_opts *o)
{
	uint64_t v;

	switch (c) {
	case 'b': o->backing = optarg; return 0;
	case 'F': o->backing_fmt = optarg; return 0;
	case OPT_HIDDEN: o->hidden = true; return 0;
	case OPT_COMPAT: return parse_compat(optarg, &o->compat);
	case OPT_CLUSTER:
		if (img_parse_size(optarg, &v) < 0 || v > UINT32_MAX)
			return -1;
		o->cluster_size = (uint32_t)v;
		return 0;
	case OPT_REFBITS:
		if (img_parse_size(optarg, &v) < 0 || v == 0 || v > 64)
			return -1;
		o->refcount_bits = (int)v;
		return 0;
	default:
		return -1;
	}
}

int img_create(int argc, char **argv)
{
	struct qcow2_create_opts o = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "b:F:", create_opts, NULL)) != -1)
		if (create_opt(c, &o) < 0)
			return img_usage("create", "invalid option");
	if (argc - optind != 2 || img_parse_size(argv[optind + 1], &o.size) < 0)
		return img_usage("create", "expected [OPTIONS] FILE SIZE");
	if (qcow2_create(argv[optind], &o) < 0)
		return img_fail("create");
	return 0;
}

int img_resize(int argc, char **argv)
{
	struct qcow2_image *img;
	uint64_t size;

	if (argc != 3 || img_parse_size(argv[2], &size) < 0)
		return img_usage("resize", "expected FILE SIZE");
	/* With its chain: the grown range is zeroed only where a longer
	 * backing file would show through. */
	img = img_open("resize", argv[1], QCOW2_OPEN_RDWR);
	if (!img)
		return 1;
	return img_close("resize", img, qcow2_resize(img, size) < 0 ? img_fail("resize") : 0);
}

int img_rebase(int argc, char **argv)
{
	const char *fmt = NULL;
	bool unsafe = false;
	struct qcow2_image *img;
	int c;

	while ((c = getopt(argc, argv, "uF:b:")) != -1) {
		if (c == 'u')
			unsafe = true;
		else if (c == 'F')
			fmt = optarg;
		else
			return img_usage("rebase", "invalid option");
	}
	if (!unsafe)
		return img_usage("rebase", "only unsafe rebase (-u) is supported");
	if (argc - optind != 2)
		return img_usage("rebase", "expected -u FILE NEW_BACKING [-F FMT]");
	img = img_open("rebase", argv[optind], QCOW2_OPEN_RDWR | QCOW2_OPEN_NO_BACKING);
	if (!img)
		return 1;
	c = qcow2_set_backing(img, argv[optind + 1][0] ? argv[optind + 1] : NULL, fmt);
	return img_close("rebase", img, c < 0 ? img_fail("rebase") : 0);
}

int img_set_hidden(int argc, char **argv)
{
	struct qcow2_image *img;
	bool hidden;

	if (argc != 3 || (strcmp(argv[2], "0") && strcmp(argv[2], "1")))
		return img_usage("set-hidden", "expected FILE 0|1");
	hidden = argv[2][0] == '1';
	img = img_open("set-hidden", argv[1], QCOW2_OPEN_RDWR | QCOW2_OPEN_NO_BACKING);
	if (!img)
		return 1;
	return img_close("set-hidden", img,
			 qcow2_set_hidden(img, hidden) < 0 ? img_fail("set-hidden") : 0);
}
