/* fault: the environment-driven crash points (see include/lq/fault.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lq/fault.h"

static atomic_long counter;
static long fault_at = -1;      /* -1: not read yet; 0: off */
static int trace = -1;

static void fault_init(void)
{
	const char *at = getenv("LVQCOW_FAULT_AT");

	trace = getenv("LVQCOW_FAULT_TRACE") != NULL;
	fault_at = at ? atol(at) : 0;
	if (fault_at < 0)
		fault_at = 0;
}

void fault_point(const char *where)
{
	long n;

	if (__builtin_expect(fault_at < 0, 0))
		fault_init();
	if (!fault_at && !trace)
		return;
	n = atomic_fetch_add(&counter, 1) + 1;
	if (trace)
		fprintf(stderr, "fault point %ld: %s\n", n, where);
	if (n == fault_at) {
		fprintf(stderr, "fault injected at point %ld (%s)\n", n, where);
		_exit(FAULT_EXIT_CODE);
	}
}
