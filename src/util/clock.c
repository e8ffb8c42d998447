/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clock: monotonic milliseconds (see lq/clock.h). */
#include <time.h>

#include "lq/clock.h"

int64_t clock_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
