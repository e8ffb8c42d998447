/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checked: overflow-checked arithmetic and alignment helpers for values
 * that come from outside (image tables, NBD requests, JSON sizes). */
#ifndef LQ_CHECKED_H
#define LQ_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

#define ADD_OVERFLOW(a, b, r) __builtin_add_overflow((a), (b), (r))
#define MUL_OVERFLOW(a, b, r) __builtin_mul_overflow((a), (b), (r))
#define IS_ALIGNED(x, a) ((((uint64_t)(x)) & ((uint64_t)(a) - 1)) == 0)
#define ALIGN_DOWN(x, a) (((uint64_t)(x)) & ~((uint64_t)(a) - 1))
#define DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Round x up to a multiple of the power of two a; false on overflow. */
static inline bool align_up_checked(uint64_t x, uint64_t a, uint64_t *r)
{
	uint64_t t;
	if (ADD_OVERFLOW(x, a - 1, &t))
		return false;
	*r = t & ~(a - 1);
	return true;
}

static inline bool is_power_of_2(uint64_t x)
{
	return x && !(x & (x - 1));
}

#endif
