/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm/classify: what kind of failure a command's error text tells.
 *
 * Every runtime failure of an LVM command returns the same code (5), and
 * the log callback's errno is always 0, so the class comes from the
 * message text (LVM 2.03's wording, matched case-insensitively; the
 * phrases are listed most specific first).  A class maps to one xapi
 * error (lq/lvm.h, docs/lvm.md). */
#include <lvm2cmd.h>
#include <stdio.h>
#include <string.h>

#include "lq/err.h"
#include "lq/xerr.h"
#include "lvm-int.h"

struct phrase {
	enum lvm_class cls;
	const char *text;
};

static const struct phrase phrases[] = {
	{ LVM_META_FULL, "exceeds maximum metadata size" },
	{ LVM_META_FULL, "metadata area is full" },
	{ LVM_META_FULL, "no space for metadata" },
	{ LVM_NO_SPACE, "insufficient free space" },
	{ LVM_NO_SPACE, "insufficient suitable allocatable extents" },
	{ LVM_NO_SPACE, "not enough free space" },
	{ LVM_LOCKED, "locked by other host" },
	{ LVM_LOCKED, "lock failed" },
	{ LVM_LOCKED, "can't get lock" },
	{ LVM_LOCKED, "giving up waiting for lock" },
	{ LVM_LOCKED, "failed to lock" },
	{ LVM_LOCKED, "lockspace" },
	{ LVM_DEVICE, "excluded by a filter" },
	{ LVM_DEVICE, "signature detected" },
	{ LVM_DEVICE, "aborted wiping" },
	{ LVM_DEVICE, "exclusively" },
	{ LVM_DEVICE, "mounted filesystem" },
	{ LVM_DEVICE, "device not found" },
	{ LVM_DEVICE, "cannot use /dev/" },
	{ LVM_DEVICE, "is already in volume group" },
	{ LVM_DEVICE, "of volume group" },
	{ LVM_EXISTS, "already exists" },
	{ LVM_NOT_LARGER, "not larger than existing size" },
	{ LVM_NOT_LARGER, "matches existing size" },
	{ LVM_NOT_FOUND, "failed to find" },
	{ LVM_NOT_FOUND, "not found" },
};

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

enum lvm_class lvm_classify(int rc, const char *err)
{
	if (rc == LVM2_COMMAND_SUCCEEDED)
		return LVM_OK;
	if (rc == LVM2_NO_SUCH_COMMAND || rc == LVM2_INVALID_PARAMETERS)
		return LVM_INVALID;
	for (size_t i = 0; err && i < sizeof phrases / sizeof phrases[0]; i++)
		if (contains_ci(err, phrases[i].text))
			return phrases[i].cls;
	return LVM_OTHER;
}

const char *lvm_class_name(enum lvm_class c)
{
	static const char *const names[] = {
		[LVM_OK] = "ok",
		[LVM_EXISTS] = "exists",
		[LVM_NOT_FOUND] = "not found",
		[LVM_NO_SPACE] = "no space",
		[LVM_META_FULL] = "metadata full",
		[LVM_LOCKED] = "locked",
		[LVM_DEVICE] = "device refused",
		[LVM_NOT_LARGER] = "not larger",
		[LVM_INVALID] = "invalid command",
		[LVM_OTHER] = "failed",
	};
	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "failed";
}

/* The error text as one line: messages joined by "; ", none empty. */
static void one_line(const char *err, char *buf, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (const char *p = err ? err : ""; *p && at + 1 < n; p++) {
		if (*p != '\n')
			buf[at++] = *p;
		else if (p[1] && at + 3 < n)
			at += (size_t)snprintf(buf + at, n - at, "; ");
	}
	buf[at] = '\0';
	if (!buf[0])
		snprintf(buf, n, "no message");
}

int lvm_fail(enum lvm_class c, const char *what, const char *err)
{
	char text[ERR_MSG_MAX];

	one_line(err, text, sizeof text);
	switch (c) {
	case LVM_EXISTS:
		return err_set_at(__FILE__, __LINE__, EEXIST, XERR_LVM_EXISTS, "lvm %s: %s", what, text);
	case LVM_NOT_FOUND:
		return err_set_at(__FILE__, __LINE__, ENOENT, XERR_LVM_NOT_FOUND, "lvm %s: %s", what, text);
	case LVM_NO_SPACE:
		return err_set_at(__FILE__, __LINE__, ENOSPC, XERR_SR_NO_SPACE, "lvm %s: %s", what, text);
	case LVM_META_FULL:
		return err_set_at(__FILE__, __LINE__, ENOSPC, XERR_LVM_META_FULL,
				  "lvm %s: the volume group's metadata area is full: %s", what, text);
	case LVM_LOCKED:
		return err_set_at(__FILE__, __LINE__, EBUSY, XERR_LVM_LOCKED, "lvm %s: %s", what, text);
	case LVM_DEVICE:
		return err_set_at(__FILE__, __LINE__, EINVAL, XERR_LVM_DEVICE, "lvm %s: %s", what, text);
	case LVM_INVALID:
		return err_set(EINVAL, "lvm %s: command refused by LVM: %s", what, text);
	default:
		return err_set(EIO, "lvm %s: %s", what, text);
	}
}
