/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-diag: Plugin.diagnostics of the datapath plugin — the state
 * of every NBD server this host runs, as their control sockets report
 * it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/nbd.h"
#include "lq/rundir.h"
#include "datapath-int.h"

static void describe(FILE *f, const char *dir, const char *key)
{
	char ctl[PATH_MAX], reply[4500];

	if (snprintf(ctl, sizeof ctl, "%s/%s/ctl", dir, key) >= (int)sizeof ctl)
		return;
	if (nbd_control_call(ctl, "status", reply, sizeof reply) == 0)
		fprintf(f, "volume %s: %s\n", key, reply);
	else
		fprintf(f, "volume %s: no server\n", key);
}

int ops_datapath_diagnostics(char **out)
{
	char dir[PATH_MAX];
	size_t len = 0;
	FILE *f;
	DIR *dp;
	struct dirent *e;

	if (rundir_path("nbd", dir, sizeof dir) < 0)
		return -1;
	if (!(f = open_memstream(out, &len)))
		return err_sys("open_memstream: %m");
	fprintf(f, "lvqcow datapath: runtime directory %s\n", dir);
	if ((dp = opendir(dir))) {
		while ((e = readdir(dp)))
			if (e->d_name[0] != '.')
				describe(f, dir, e->d_name);
		closedir(dp);
	}
	if (fclose(f) != 0)
		return err_sys("diagnostics: %m");
	return 0;
}
