/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check.c: qcow2_check, the consistency check and repair of one image.
 *
 * Mirrors qemu-img check: every host cluster's references are counted
 * (header, L1, L2, data, compressed ranges, refcount table and blocks,
 * snapshot table and snapshot L1/L2, bitmap directory, tables and data)
 * and compared with the stored refcounts; COPIED flags are checked against
 * refcount == 1.  The result is qemu-img's exit code.  A repair writes new
 * refcount structures and switches the header to them last, then checks
 * again, as qemu does, so the code describes the repaired image.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "lq/checked.h"
#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/log.h"
#include "check-int.h"

#define CHK_HEADER_READ (2u << 20)

static int file_size_of(struct chk *c)
{
	struct stat st;

	if (fstat(c->fd, &st) < 0)
		return err_sys("stat: %m");
	c->growable = !S_ISBLK(st.st_mode);
	if (S_ISBLK(st.st_mode))
		return ioctl(c->fd, BLKGETSIZE64, &c->file_size) < 0 ? err_sys("BLKGETSIZE64: %m") : 0;
	c->file_size = (uint64_t)st.st_size;
	return 0;
}

/* What qemu-img would say before checking: not qcow2 at all (it would
 * probe the file as raw, which has no check: 63), or a version or feature
 * it refuses to open (1).  Any header the decoder refuses is likewise "could
 * not open": 1. */
static int precheck(const uint8_t *b, uint64_t len, struct qcow2_check_result *res)
{
	uint32_t version;

	if (len < 8 || be32_get(b) != QCOW2_MAGIC) {
		snprintf(res->msg, sizeof res->msg, "not a qcow2 image: cannot check");
		return QCOW2_CHECK_UNSUPPORTED;
	}
	version = be32_get(b + 4);
	if (version == 0) {     /* no qcow at all: qemu would see a raw image */
		snprintf(res->msg, sizeof res->msg, "qcow version 0: not a qcow2 image: cannot check");
		return QCOW2_CHECK_UNSUPPORTED;
	}
	if (version == 1) {     /* qcow v1 header: not openable as what it says it is */
		snprintf(res->msg, sizeof res->msg, "qcow version 1 image: not supported");
		return QCOW2_CHECK_ERROR;
	}
	if (version > 3) {
		snprintf(res->msg, sizeof res->msg, "unsupported qcow2 version %u", version);
		return QCOW2_CHECK_ERROR;
	}
	if (version == 3 && len >= 80 && (be64_get(b + 72) & ~QCOW2_INCOMPAT_KNOWN)) {
		snprintf(res->msg, sizeof res->msg, "unsupported qcow2 features 0x%llx",
			 (unsigned long long)(be64_get(b + 72) & ~QCOW2_INCOMPAT_KNOWN));
		return QCOW2_CHECK_ERROR;
	}
	return 0;
}

static void set_geometry(struct chk *c)
{
	unsigned order = c->h.refcount_order;

	c->cbits = c->h.cluster_bits;
	c->cs = UINT64_C(1) << c->cbits;
	c->extl2 = c->h.incompatible_features & QCOW2_INCOMPAT_EXTL2;
	c->l2e_size = c->extl2 ? 16 : 8;
	c->l2_entries = c->cs / c->l2e_size;
	c->rb_entries = (c->cs * 8) >> order;
	c->refcount_max = order == 6 ? UINT64_MAX : (UINT64_C(1) << (1u << order)) - 1;
	c->csize_shift = 62 - (c->cbits - 8);
	c->csize_mask = (UINT64_C(1) << (c->cbits - 8)) - 1;
	c->coff_mask = (UINT64_C(1) << c->csize_shift) - 1;
	c->res->total_clusters = DIV_ROUND_UP(c->h.size, c->cs);
}

/* Header: qemu's open-time validation, but tables may lie past the end of
 * the file (reads there see zeros; the comparison then reports them). */
static int load_header(struct chk *c)
{
	uint64_t len = MIN(c->file_size, (uint64_t)CHK_HEADER_READ);
	CLEANUP_FREE uint8_t *b = calloc(1, CHK_HEADER_READ);
	int rc;

	if (b == NULL)
		return err_set(ENOMEM, "out of memory");
	if (chk_read(c, b, len, 0) < 0)
		return QCOW2_CHECK_ERROR;
	if ((rc = precheck(b, len, c->res)) != 0)
		return rc;
	if (chk_header_decode(c, b, len) < 0) {
		snprintf(c->res->msg, sizeof c->res->msg, "%.200s", err_last()->msg);
		return QCOW2_CHECK_ERROR;
	}
	set_geometry(c);
	return 0;
}

static int load_reftable(struct chk *c)
{
	uint64_t bytes = (uint64_t)c->h.refcount_table_clusters << c->cbits;

	c->reftable_n = bytes / 8;
	c->reftable = malloc(MAX(bytes, 8));
	if (c->reftable == NULL)
		return err_set(ENOMEM, "out of memory for the refcount table");
	if (chk_read(c, c->reftable, bytes, c->h.refcount_table_offset) < 0)
		return -1;
	for (uint64_t i = 0; i < c->reftable_n; i++)
		c->reftable[i] = be64_get((const uint8_t *)&c->reftable[i]);
	return 0;
}

/* Count every reference, in qemu's order (the order matters only for
 * which refcount block is called "outside the image"). */
static int walk_all(struct chk *c)
{
	uint64_t l1_bytes = (uint64_t)c->h.l1_size * 8;

	if (chk_ref_range(c, 0, c->cs) < 0)
		return -1;
	if (c->h.l1_size && chk_ref_range(c, c->h.l1_table_offset, l1_bytes) < 0)
		return -1;
	if (chk_walk_l1(c, c->l1, c->h.l1_size, true) < 0 || chk_walk_snapshots(c) < 0)
		return -1;
	if (chk_ref_range(c, c->h.refcount_table_offset, c->reftable_n * 8) < 0)
		return -1;
	return chk_walk_bitmaps(c) < 0 || chk_walk_refblocks(c) < 0 ? -1 : 0;
}

static int run_check(struct chk *c)
{
	if (load_reftable(c) < 0 || chk_read_l1(c, c->h.l1_table_offset, c->h.l1_size, &c->l1) < 0)
		return -1;
	if (chk_refs_init(c) < 0 || chk_stored_load(c, c->nrefs) < 0)
		return -1;
	if (walk_all(c) < 0)
		return -1;
	return chk_compare(c);
}

static int exit_code(const struct qcow2_check_result *r)
{
	if (r->check_errors)
		return QCOW2_CHECK_ERROR;
	if (r->corruptions)
		return QCOW2_CHECK_CORRUPT;
	return r->leaks ? QCOW2_CHECK_LEAKS : QCOW2_CHECK_CLEAN;
}

static void chk_release(struct chk *c)
{
	if (c->fd >= 0)
		close(c->fd);
	qcow2_header_free(&c->h);
	free(c->l1);
	free(c->refs);
	free(c->far);
	free(c->reftable);
	free(c->stored);
	free(c->cached_rb);
	free(c->target);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

/* One full pass over the image; returns the exit code. */
static int check_pass(struct chk *c, const char *path, int flags, struct qcow2_check_result *res)
{
	int rc;

	c->fd = qcow2_io_open(path, flags != 0, false, false);
	c->flags = flags;
	c->res = res;
	if (c->fd < 0) {
		snprintf(res->msg, sizeof res->msg, "cannot open: %.200s", err_last()->msg);
		return QCOW2_CHECK_ERROR;
	}
	if (file_size_of(c) < 0)
		goto error;
	if ((rc = load_header(c)) < 0)
		goto error;
	if (rc > 0)
		return rc;
	if (run_check(c) < 0)
		goto error;
	return exit_code(res);
error:
	res->check_errors++;
	snprintf(res->msg, sizeof res->msg, "%.200s", err_last()->msg);
	return QCOW2_CHECK_ERROR;
}

/* Why a repair cannot proceed, or NULL. */
static const char *repair_refused(const struct chk *c)
{
	if (c->rebuild && !(c->flags & QCOW2_REPAIR_ALL))
		return "the refcount structure must be rebuilt (use --repair all)";
	if (c->nfar)
		return "references far beyond the end of the image; cannot repair";
	return NULL;
}

static int repair(struct chk *c, struct qcow2_check_result *res)
{
	const char *why = repair_refused(c);

	if (why) {
		res->check_errors++;
		snprintf(res->msg, sizeof res->msg, "%.200s", why);
		return -1;
	}
	if (chk_repair_refcounts(c) < 0 ||
	    ((c->flags & QCOW2_REPAIR_ALL) && chk_repair_copied(c) < 0)) {
		res->check_errors++;
		snprintf(res->msg, sizeof res->msg, "repair failed: %.200s", err_last()->msg);
		return -1;
	}
	return 0;
}

static bool needs_repair(const struct qcow2_check_result *r, int flags)
{
	if (r->corruptions && (flags & QCOW2_REPAIR_ALL))
		return true;
	return r->leaks && (flags & (QCOW2_REPAIR_LEAKS | QCOW2_REPAIR_ALL));
}

/* After a repair: check again; the fixed counts come from the first pass. */
static int recheck(struct chk *c, const char *path, int flags, struct qcow2_check_result *res)
{
	struct qcow2_check_result fixed = *res;
	int rc;

	chk_release(c);
	memset(res, 0, sizeof *res);
	rc = check_pass(c, path, flags, res);
	res->leaks_fixed = fixed.leaks_fixed;
	res->corruptions_fixed = fixed.corruptions_fixed;
	return rc;
}

int qcow2_check(const char *path, int flags, struct qcow2_check_result *res)
{
	struct chk c = { .fd = -1 };
	int rc;

	memset(res, 0, sizeof *res);
	chk_warn(NULL, NULL);
	rc = check_pass(&c, path, flags, res);
	if ((rc == QCOW2_CHECK_CORRUPT || rc == QCOW2_CHECK_LEAKS) && needs_repair(res, flags)) {
		if (repair(&c, res) < 0)
			rc = QCOW2_CHECK_ERROR;
		else
			rc = recheck(&c, path, flags, res);
	}
	if (flags && rc == QCOW2_CHECK_CLEAN && chk_mark_consistent(&c) < 0) {
		res->check_errors++;
		snprintf(res->msg, sizeof res->msg, "%.200s", err_last()->msg);
		rc = QCOW2_CHECK_ERROR;
	}
	chk_release(&c);
	return rc;
}
