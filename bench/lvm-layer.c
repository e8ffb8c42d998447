/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/lvm-layer: what one LVM command costs through src/lvm in one
 * process: the first command (dlopen + lvm2_init + the command), then
 * the mean of `rounds` lvs, lvcreate and lvremove each.  Usage:
 * lvm-layer VG ROUNDS; prints one line of figures in ms. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lq/err.h"
#include "lq/lvm.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int fail(const char *what)
{
	fprintf(stderr, "lvm-layer: %s: %s\n", what, err_last()->msg);
	return 1;
}

int main(int argc, char **argv)
{
	const char *vg = argc > 2 ? argv[1] : NULL;
	int rounds = argc > 2 ? atoi(argv[2]) : 0;
	double t, first, lvs = 0, create = 0, remove = 0;
	struct lvm_lv_list l;
	char name[32];

	if (!vg || rounds <= 0)
		return fprintf(stderr, "usage: lvm-layer VG ROUNDS\n"), 2;
	t = now_ms();
	if (lvm_lv_list(vg, &l) < 0)
		return fail("first lvs");
	first = now_ms() - t;
	lvm_lv_list_free(&l);
	for (int i = 0; i < rounds; i++) {
		t = now_ms();
		if (lvm_lv_list(vg, &l) < 0)
			return fail("lvs");
		lvs += now_ms() - t;
		lvm_lv_list_free(&l);
		snprintf(name, sizeof name, "bench-%d", i);
		t = now_ms();
		if (lvm_lv_create(vg, name, 1, NULL) < 0)
			return fail("lvcreate");
		create += now_ms() - t;
		t = now_ms();
		if (lvm_lv_remove(vg, name) < 0)
			return fail("lvremove");
		remove += now_ms() - t;
	}
	printf("first %.1f lvs %.1f lvcreate %.1f lvremove %.1f\n", first, lvs / rounds,
	       create / rounds, remove / rounds);
	return 0;
}
