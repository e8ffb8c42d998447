/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img.c: `lvqcow img SUBCOMMAND ...`, the admin front of the qcow2
 * engine.  One table row per subcommand; errors go to stderr with the
 * subcommand name and give a non-zero exit. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "img.h"
#include "lq/err.h"
#include "lq/qcow2.h"

static int img_help(int argc, char **argv);

static const struct cli_command img_commands[] = {
	{ "create", "[-b BACKING [-F FMT]] [--cluster-size N] [--compat 0.10|1.1]\n"
		    "\t\t[--refcount-bits N] [--hidden] FILE SIZE", img_create },
	{ "info", "[--json] FILE", img_info },
	{ "map", "--json FILE      guest view, like qemu-img map", img_map },
	{ "allocated", "FILE       bytes with data in this image alone", img_allocated },
	{ "bitmap", "FILE          1 bit per cluster with data in this image; raw\n"
		    "\t\tbytes, bit i of byte j is cluster 8*j+i (LSB first)", img_bitmap },
	{ "read", "FILE OFFSET LENGTH   guest bytes to stdout", img_read },
	{ "write", "FILE OFFSET         stdin (until EOF) to the guest", img_write },
	{ "zero", "[--unmap] FILE OFFSET LENGTH", img_zero },
	{ "discard", "FILE OFFSET LENGTH", img_discard },
	{ "resize", "FILE SIZE     grow the virtual size", img_resize },
	{ "rebase", "-u FILE NEW_BACKING [-F FMT]   rewrite the backing name only", img_rebase },
	{ "set-hidden", "FILE 0|1", img_set_hidden },
	/* whole-image operations (img-ops.c) */
	{ "check", "[-r leaks|all] [--output json] FILE", cli_img_check },
	{ "measure", "[--cluster-size N] [--refcount-bits N] [--extended-l2] [--json]\n"
		     "\t\t(--size N | FILE)   room a qcow2 image needs", cli_img_measure },
	{ "commit", "[-q] [-p] FILE   write FILE's data into its backing file", cli_img_commit },
	{ "coalesce", "[--direction up|down|auto] [-q] CHILD   CHILD and its backing\n"
		      "\t\tfile become one image, copying the fewer bytes (auto)", cli_img_coalesce },
	{ "help", "this text", img_help },
	{ NULL, NULL, NULL },
};

static int img_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: lvqcow img SUBCOMMAND [ARGS...]\n\n");
	for (const struct cli_command *c = img_commands; c->name; c++)
		printf("  %-10s %s\n", c->name, c->help);
	printf("\nSizes and offsets accept K, M, G, T suffixes (powers of 1024).\n");
	return 0;
}

int img_fail(const char *cmd)
{
	const struct err_record *e = err_last();

	if (e->msg[0]) {
		fprintf(stderr, "lvqcow img %s: %s\n", cmd, e->msg);
	} else {
		errno = err_errnum();
		fprintf(stderr, "lvqcow img %s: %m\n", cmd);
	}
	return 1;
}

int img_usage(const char *cmd, const char *msg)
{
	fprintf(stderr, "lvqcow img %s: %s (see lvqcow img help)\n", cmd, msg);
	return 2;
}

int img_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTPE";
	unsigned long long v;
	const char *u;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end && !end[1] && (u = strchr(units, *end & ~0x20)) != NULL) {
		unsigned shift = 10 * (unsigned)(u - units + 1);

		if (v > UINT64_MAX >> shift)
			return -1;
		v <<= shift;
	} else if (*end && strcmp(end, "B") != 0) {
		return -1;
	}
	*out = v;
	return 0;
}

struct qcow2_image *img_open(const char *cmd, const char *path, int flags)
{
	struct qcow2_image *img;

	if (qcow2_open(path, flags | QCOW2_OPEN_ANY_BACKING, &img) < 0) {
		img_fail(cmd);
		return NULL;
	}
	return img;
}

int img_close(const char *cmd, struct qcow2_image *img, int rc)
{
	if (qcow2_close(img) < 0 && rc == 0)
		return img_fail(cmd);
	return rc;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* "lvqcow img SUB --help": that row's usage, on stdout. */
static int img_sub_help(const struct cli_command *c)
{
	printf("usage: lvqcow img %s %s\n", c->name, c->help);
	return 0;
}

int cli_img(int argc, char **argv)
{
	if (argc < 2)
		return img_help(0, NULL), 2;
	for (const struct cli_command *c = img_commands; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return argc == 3 && is_help(argv[2]) ? img_sub_help(c)
							     : c->run(argc - 1, argv + 1);
	if (is_help(argv[1]))
		return img_help(0, NULL);
	fprintf(stderr, "lvqcow img: unknown subcommand '%s' (see lvqcow img help)\n", argv[1]);
	return 2;
}
