/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/lvm-layer: what LVM commands cost through src/lvm in one
 * process.  Two modes:
 *   lvm-layer VG ROUNDS  the first command (dlopen + lvm2_init + an lvs),
 *                        then the mean of ROUNDS lvs, lvcreate and
 *                        lvremove each; one line of figures in ms;
 *   lvm-layer -r FILE    runs the command lines of FILE (one a line, as
 *                        LVQCOW_DEBUG=1 logs them after "lvm: ") in this
 *                        fresh process, in order, and prints each one's
 *                        ms, then "total MS first MS failed N" (first:
 *                        the first command, which pays for loading the
 *                        library; a failed command is timed and counted:
 *                        a call's lookup may fail on purpose);
 *   lvm-layer -l         two `version` commands in this fresh process:
 *                        the first pays for loading the library and
 *                        lvm2_init, the second is a command alone; one
 *                        line in ms.  In the test guest, five processes:
 *     ./tests/vm/run.sh build 'for i in 1 2 3 4 5; do $LQ_VM_BUILD/bench/lvm-layer -l; done' */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lq/err.h"
#include "lq/lvm.h"
#include "../src/lvm/lvm-int.h"

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

static int cycles(const char *vg, int rounds)
{
	double t, first, lvs = 0, create = 0, remove = 0;
	struct lvm_lv_list l;
	char name[32];

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

/* Split line into c: words separated by blanks, a word wrapped in '...'
 * (how cmd.c writes a --config value) taken whole.  -1 on a line that
 * is not one cmd.c could have written. */
static int parse_line(char *line, struct lvm_cmd *c)
{
	char *p = line, *w;
	int words = 0;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (*p == '\'') {
			w = ++p;
			p = strchr(p, '\'');
			if (!p)
				return -1;
		} else {
			w = p;
			p += strcspn(p, " ");
		}
		int quoted = *p == '\'';
		if (*p)
			*p++ = '\0';
		if (words >= LVM_ARGS_MAX - 1 || (!quoted && !lvm_token_ok(w)))
			return -1;
		if (words++ == 0)
			lvm_cmd_init(c, w);
		else if (quoted)
			lvm_cmd_add_quoted(c, w);
		else
			lvm_cmd_addf(c, "%s", w);
	}
	return words > 0 ? 0 : -1;
}

static int replay(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[4096];
	double total = 0, first = -1;
	int failed = 0;
	struct lvm_cmd c;
	struct lvm_output out;

	if (!f)
		return perror(file), 1;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (parse_line(line, &c) < 0)
			return fclose(f), fprintf(stderr, "lvm-layer: bad line in %s\n", file), 1;
		double t = now_ms();
		int rc = lvm_run(&c, &out);
		t = now_ms() - t;
		if (rc < 0)
			failed++;
		else
			lvm_output_free(&out);
		if (first < 0)
			first = t;
		total += t;
		printf("%.1f %s%s\n", t, c.argv[0], rc < 0 ? " failed" : "");
	}
	fclose(f);
	printf("total %.1f first %.1f failed %d\n", total, first < 0 ? 0 : first, failed);
	return 0;
}

static int load_cost(void)
{
	char version[128];
	double t0 = now_ms();
	int rc = lvm_version(version, sizeof version);
	double t1 = now_ms();

	rc |= lvm_version(version, sizeof version);
	double t2 = now_ms();
	printf("first %.1f second %.1f\n", t1 - t0, t2 - t1);
	return rc < 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "-l") == 0)
		return load_cost();
	if (argc == 3 && strcmp(argv[1], "-r") == 0)
		return replay(argv[2]);
	if (argc == 3 && atoi(argv[2]) > 0)
		return cycles(argv[1], atoi(argv[2]));
	fprintf(stderr, "usage: lvm-layer VG ROUNDS | lvm-layer -r FILE | lvm-layer -l\n");
	return 2;
}
