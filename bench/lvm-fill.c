/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/lvm-fill: COUNT volumes of 1 MiB made in SR by the code of the
 * plugin's Volume.create (ops_volume_create), one after another in this
 * one process.  The SR ends in the state COUNT Volume.create calls
 * leave; what is saved is each call's process start and loading of
 * liblvm2cmd, which dominate a call under TCG.  Several of these may run
 * at once: the SR lock orders them as it orders calls.  Usage:
 * lvm-fill TYPE SR COUNT; prints the seconds a volume took. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lq/err.h"
#include "lq/log.h"
#include "lq/ops.h"

int main(int argc, char **argv)
{
	struct json_object *res;
	struct timespec a, b;
	int count = argc == 4 ? atoi(argv[3]) : 0;

	if (count <= 0)
		return fprintf(stderr, "usage: lvm-fill TYPE SR COUNT\n"), 2;
	log_init("lvm-fill");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < count; i++) {
		if (ops_volume_create(argv[1], argv[2], "f", "", 1 << 20, false, &res) < 0) {
			fprintf(stderr, "lvm-fill: volume %d: %s\n", i, err_last()->msg);
			return 1;
		}
		json_object_put(res);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9) / count);
	return 0;
}
