/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* env: numeric settings from the environment (see lq/env.h). */
#include <errno.h>
#include <stdlib.h>

#include "lq/env.h"

long long env_integer(const char *name, long long def, long long min, long long max)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end || errno || v < min || v > max ? def : v;
}
