/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img-coalesce.c: `lvqcow img coalesce`, the admin form of the
 * collector's step: a child and the parent its header names become one
 * image, built in whichever direction copies less.
 *
 * up:   the child's own clusters go into the parent (qemu-img commit);
 *       the parent is the result, the child is left unchanged.
 * down: the parent's clusters the child does not shadow go into the
 *       child, which then takes the parent's backing file (none if the
 *       parent had none), as `qemu-img rebase -b ''` does over a base
 *       image; the child is the result, the parent is left unchanged.
 * auto: both are counted with a dry run (the allocation maps only) and
 *       the one copying fewer bytes runs; down on a tie, as the
 *       collector does, since nothing above the child must be relinked.
 *
 * The target is opened writable on its real backing chain, so that a
 * write of part of a cluster copies the rest from below.  Either way the
 * guest view of the child never changes before the last step (the copy
 * writes only what the chain already reads there; down relinks only once
 * the child holds everything of the parent), so a killed coalesce is
 * finished by running it again.  Backing names are followed as every
 * `lvqcow img` command follows them (QCOW2_OPEN_ANY_BACKING).
 */
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "img.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/qcow2.h"

enum coalesce_dir { DIR_AUTO, DIR_UP, DIR_DOWN };

struct coalesce {
	const char *child;
	char parent[4096 + 1024];
	char relink[2048];          /* the child's new backing name, "" for none */
	char relink_fmt[32];
	uint64_t child_size, parent_size;
	bool parent_backed;
};

static const char coalesce_usage[] =
	"usage: coalesce [--direction up|down|auto] [-q] CHILD";

/* The parent's path as the child's header names it (relative names are
 * relative to the child's directory). */
static int find_parent(struct coalesce *c, const struct qcow2_info *ci)
{
	CLEANUP_FREE char *copy = strdup(c->child);

	if (copy == NULL)
		return err_set(ENOMEM, "out of memory");
	if (ci->backing[0] == '\0')
		return err_set(EINVAL, "%s has no backing file to coalesce with", c->child);
	if (ci->backing_fmt[0] && strcmp(ci->backing_fmt, "qcow2"))
		return err_set(ENOTSUP, "%s: cannot coalesce with a %s backing file", c->child,
			       ci->backing_fmt);
	if (ci->backing[0] == '/')
		snprintf(c->parent, sizeof c->parent, "%s", ci->backing);
	else if ((size_t)snprintf(c->parent, sizeof c->parent, "%s/%s", dirname(copy),
				  ci->backing) >= sizeof c->parent)
		return err_set(ENAMETOOLONG, "backing file path too long");
	return 0;
}

/* The parent's backing name, rewritten relative to the child's directory:
 * a relative name in the parent's header is relative to the parent's
 * directory, which is dirname(child's name for the parent). */
static int find_relink(struct coalesce *c, const char *child_name, const struct qcow2_info *pi)
{
	CLEANUP_FREE char *copy = strdup(child_name);
	const char *dir;

	if (copy == NULL)
		return err_set(ENOMEM, "out of memory");
	snprintf(c->relink_fmt, sizeof c->relink_fmt, "%s", pi->backing_fmt);
	c->parent_backed = pi->backing[0] != '\0';
	dir = dirname(copy);
	if (!c->parent_backed || pi->backing[0] == '/' || !strcmp(dir, "."))
		return snprintf(c->relink, sizeof c->relink, "%s", pi->backing) <
		       (int)sizeof c->relink ? 0 : err_set(ENAMETOOLONG, "backing name too long");
	if ((size_t)snprintf(c->relink, sizeof c->relink, "%s/%s", dir, pi->backing) >=
	    sizeof c->relink)
		return err_set(ENAMETOOLONG, "backing name too long");
	return 0;
}

static int info_of(const char *path, struct qcow2_info *info)
{
	struct qcow2_image *img;
	int rc;

	if (qcow2_open(path, QCOW2_OPEN_NO_BACKING, &img) < 0)
		return -1;
	rc = qcow2_get_info(img, info);
	qcow2_close(img);
	return rc;
}

/* Check the whole chain opens (the same name and file checks as any
 * `lvqcow img` command), then read the pair's headers. */
static int coalesce_find(struct coalesce *c)
{
	struct qcow2_image *img;
	struct qcow2_info ci, pi;

	if (qcow2_open(c->child, QCOW2_OPEN_ANY_BACKING, &img) < 0)
		return -1;
	qcow2_close(img);
	if (info_of(c->child, &ci) < 0 || find_parent(c, &ci) < 0 || info_of(c->parent, &pi) < 0)
		return -1;
	c->child_size = ci.virtual_size;
	c->parent_size = pi.virtual_size;
	return find_relink(c, ci.backing, &pi);
}

/* Run qcow2_merge from `from` (alone) into `into` (writable, on its chain). */
static int merge_pair(const char *from_path, const char *into_path, int flags, uint64_t *bytes)
{
	struct qcow2_image *from = NULL, *into = NULL;
	int open = (flags & QCOW2_MERGE_DRY_RUN) ? QCOW2_OPEN_NO_BACKING
						  : QCOW2_OPEN_RDWR | QCOW2_OPEN_ANY_BACKING;
	int rc = -1;

	if (qcow2_open(from_path, QCOW2_OPEN_NO_BACKING, &from) == 0 &&
	    qcow2_open(into_path, open, &into) == 0)
		rc = qcow2_merge(from, into, flags, NULL, NULL, bytes);
	if (qcow2_close(into) < 0)
		rc = -1;
	qcow2_close(from);
	return rc;
}

/* Down: the child holds everything now; it takes the parent's backing. */
static int relink_child(struct coalesce *c)
{
	struct qcow2_image *img;
	int rc;

	if (qcow2_open(c->child, QCOW2_OPEN_RDWR | QCOW2_OPEN_NO_BACKING, &img) < 0)
		return -1;
	rc = qcow2_set_backing(img, c->parent_backed ? c->relink : NULL,
			       c->parent_backed && c->relink_fmt[0] ? c->relink_fmt : NULL);
	if (qcow2_close(img) < 0)
		rc = -1;
	return rc;
}

/* Beyond a shorter parent the child reads zeros; over a grandparent that
 * part would read the grandparent's data once relinked.  Copying those
 * zeros is not done here, so that case is refused rather than changed. */
static int coalesce_down(struct coalesce *c)
{
	if (c->parent_backed && c->child_size > c->parent_size)
		return err_set(ENOTSUP, "%s is larger than its parent, which has a backing "
			       "file: coalesce up instead", c->child);
	if (merge_pair(c->parent, c->child, QCOW2_MERGE_UNDER, NULL) < 0)
		return -1;
	return relink_child(c);
}

static int coalesce_pick(struct coalesce *c, bool quiet, enum coalesce_dir *dir)
{
	uint64_t up, down;

	if (merge_pair(c->child, c->parent, QCOW2_MERGE_DRY_RUN, &up) < 0 ||
	    merge_pair(c->parent, c->child, QCOW2_MERGE_DRY_RUN | QCOW2_MERGE_UNDER, &down) < 0)
		return -1;
	*dir = down <= up ? DIR_DOWN : DIR_UP;
	if (*dir == DIR_DOWN && c->parent_backed && c->child_size > c->parent_size)
		*dir = DIR_UP;
	if (!quiet)
		printf("direction: %s (up copies %" PRIu64 " bytes, down %" PRIu64 ")\n",
		       *dir == DIR_DOWN ? "down" : "up", up, down);
	return 0;
}

static int parse_direction(const char *s, enum coalesce_dir *dir)
{
	if (!strcmp(s, "auto"))
		*dir = DIR_AUTO;
	else if (!strcmp(s, "up"))
		*dir = DIR_UP;
	else if (!strcmp(s, "down"))
		*dir = DIR_DOWN;
	else
		return -1;
	return 0;
}

int cli_img_coalesce(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "direction", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct coalesce c = { 0 };
	enum coalesce_dir dir = DIR_AUTO;
	bool quiet = false;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "d:q", opts, NULL)) != -1) {
		if (o == '?' || (o == 'd' && parse_direction(optarg, &dir) < 0))
			return img_usage("coalesce", coalesce_usage);
		quiet |= o == 'q';
	}
	if (optind != argc - 1)
		return img_usage("coalesce", coalesce_usage);
	c.child = argv[optind];
	if (coalesce_find(&c) < 0 || (dir == DIR_AUTO && coalesce_pick(&c, quiet, &dir) < 0))
		return img_fail("coalesce");
	if (dir == DIR_UP ? merge_pair(c.child, c.parent, 0, NULL) < 0 : coalesce_down(&c) < 0)
		return img_fail("coalesce");
	if (!quiet)
		printf("Image coalesced %s into %s.\n", dir == DIR_UP ? "up" : "down",
		       dir == DIR_UP ? c.parent : c.child);
	return 0;
}
