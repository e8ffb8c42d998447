/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8: strict UTF-8 validation (see lq/utf8.h), after the table of
 * well-formed byte sequences in the Unicode standard (section 3.9). */
#include <stdint.h>

#include "lq/utf8.h"

/* Sequence length for a lead byte, and the range its second byte must
 * fall in (the narrower ranges exclude overlong forms, surrogates and
 * code points above U+10FFFF). */
static size_t lead(uint8_t c, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0) {
		if (c == 0xe0)
			*lo = 0xa0;
		if (c == 0xed)
			*hi = 0x9f;
		return 3;
	}
	if (c > 0xf4)
		return 0;
	if (c == 0xf0)
		*lo = 0x90;
	if (c == 0xf4)
		*hi = 0x8f;
	return 4;
}

size_t utf8_seq_len(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	uint8_t lo, hi;
	size_t len;

	if (n == 0)
		return 0;
	len = lead(p[0], &lo, &hi);
	if (len == 0 || len > n)
		return 0;
	if (len > 1 && (p[1] < lo || p[1] > hi))
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n, size_t *bad)
{
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_seq_len(s + i, n - i);
		if (k == 0) {
			if (bad)
				*bad = i;
			return false;
		}
		i += k;
	}
	return true;
}
