/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rundir: runtime state directory (see lq/rundir.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lq/err.h"
#include "lq/rundir.h"

const char *rundir_root(void)
{
	const char *r = getenv("LVQCOW_RUNDIR");

	return r && r[0] == '/' ? r : RUNDIR_DEFAULT;
}

/* mkdir -p, for the few components under our own root. */
static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			err_sys("mkdir %s: %m", path);
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return err_sys("mkdir %s: %m", path);
	return 0;
}

int rundir_path(const char *sub, char *buf, size_t n)
{
	int len = snprintf(buf, n, "%s/%s", rundir_root(), sub);

	if (len < 0 || (size_t)len >= n)
		return err_set(ENAMETOOLONG, "runtime path too long: %s", sub);
	return mkdirs(buf);
}
