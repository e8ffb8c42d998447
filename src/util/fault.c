/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault: crash points for fault injection (see lq/fault.h). */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"

static atomic_long fault_count;

static void fault_kill(const char *name)
{
	log_warn("fault injection: killed at %s", name);
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}

/* LVQCOW_FAULT_AT=N kills at the Nth point reached, whatever its name;
 * LVQCOW_FAULT_TRACE lists the points reached, so a test can count them. */
static void fault_count_point(const char *name)
{
	const char *at = getenv("LVQCOW_FAULT_AT");
	long n;

	const char *skip = getenv("LVQCOW_FAULT_SKIP");

	if (!at && !getenv("LVQCOW_FAULT_TRACE"))
		return;
	if (skip && *skip && !strncmp(name, skip, strlen(skip)))
		return;
	n = atomic_fetch_add(&fault_count, 1) + 1;
	if (getenv("LVQCOW_FAULT_TRACE"))
		fprintf(stderr, "fault point %ld: %s\n", n, name);
	if (at && atol(at) == n)
		fault_kill(name);
}

void fault_point(const char *name)
{
	const char *want = getenv("LVQCOW_FAULT");

	fault_count_point(name);
	if (!want || strcmp(want, name))
		return;
	fault_kill(name);
}

int fault_error(const char *name)
{
	const char *want = getenv("LVQCOW_FAULT_ERROR");

	if (!want || strcmp(want, name))
		return 0;
	return err_set(EIO, "fault injection: failed at %s", name);
}
