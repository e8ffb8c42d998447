/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* env: numeric settings read from the environment (test and operator
 * overrides of bounds and grace periods). */
#ifndef LQ_ENV_H
#define LQ_ENV_H

/* The integer in variable name when it parses whole and lies in
 * [min, max]; def otherwise: a typo must never lift a bound. */
long long env_integer(const char *name, long long def, long long min, long long max);

#endif
