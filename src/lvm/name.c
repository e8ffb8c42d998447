/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm/name: which names may reach an LVM command line.
 *
 * LVM's own rules (man lvm, "VALID NAMES") for VG and LV names, tags
 * from an alphabet that is safe both on lvm2_run's command line (no '#',
 * which starts a comment there) and in selections ('&', '!', '#' are
 * operators), and device paths of a plain /dev/ form.  Everything
 * refused here is refused before a command runs. */
#include <string.h>

#include "lvm-int.h"

/* LVM keeps these for its own internal LVs. */
static const char *const reserved_infix[] = {
	"_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_wcorig", "_mimage",
	"_mlog", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_imeta",
	"_iorig", "_pmspare", "_vorigin",
};

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '+' || ch == '_' || ch == '.' || ch == '-';
}

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > LVM_NAME_MAX || s[0] == '-')
		return false;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

bool lvm_vg_name_ok(const char *vg)
{
	return name_ok(vg);
}

bool lvm_lv_name_ok(const char *vg, const char *lv)
{
	if (!name_ok(vg) || !name_ok(lv))
		return false;
	if (strlen(vg) + strlen(lv) > LVM_VG_LV_MAX)
		return false;
	if (!strncmp(lv, "snapshot", 8) || !strncmp(lv, "pvmove", 6))
		return false;
	for (size_t i = 0; i < sizeof reserved_infix / sizeof reserved_infix[0]; i++)
		if (strstr(lv, reserved_infix[i]))
			return false;
	return true;
}

static bool tag_char(char ch)
{
	return name_char(ch) || ch == '=' || ch == '/' || ch == ':';
}

bool lvm_tag_ok(const char *tag)
{
	size_t n = tag ? strlen(tag) : 0;

	if (n == 0 || n > LVM_TAG_MAX || tag[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!tag_char(tag[i]))
			return false;
	return true;
}

/* One path component: non-empty, not "." or "..", safe characters. */
static bool component_ok(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!tag_char(s[i]) && s[i] != '@')
			return false;
	return true;
}

bool lvm_dev_path_ok(const char *dev)
{
	size_t n = dev ? strlen(dev) : 0;
	const char *p;

	if (n > LVM_DEV_MAX || n <= 5 || strncmp(dev, "/dev/", 5))
		return false;
	for (p = dev + 1; *p;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (!component_ok(p, len))
			return false;
		p += len + (slash ? 1 : 0);
		if (slash && !*p)
			return false;   /* trailing '/' */
	}
	return true;
}
