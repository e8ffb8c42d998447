/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* b64: base64 encoding and strict decoding (see lq/b64.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lq/b64.h"
#include "lq/err.h"

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *b64_encode(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	char *out, *o;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3) {
		err_set(ENOMEM, "base64: input too large");
		return NULL;
	}
	out = o = malloc((len + 2) / 3 * 4 + 1);
	if (!out) {
		err_set(ENOMEM, "base64: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		*o++ = b64_alpha[v >> 18];
		*o++ = b64_alpha[(v >> 12) & 63];
		*o++ = n > 1 ? b64_alpha[(v >> 6) & 63] : '=';
		*o++ = n > 2 ? b64_alpha[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	unsigned char u = (unsigned char)c;

	if (u >= 'A' && u <= 'Z')
		return u - 'A';
	if (u >= 'a' && u <= 'z')
		return u - 'a' + 26;
	if (u >= '0' && u <= '9')
		return u - '0' + 52;
	return u == '+' ? 62 : u == '/' ? 63 : -1;
}

/* Decode one 4-character group; returns bytes produced or -1. */
static int b64_group(const char *s, bool last, uint8_t *o)
{
	int v[4], pad = 0;

	for (int i = 0; i < 4; i++) {
		if (s[i] == '=' && last && i >= 2) {
			v[i] = 0;
			pad++;
			continue;
		}
		if (pad || (v[i] = b64_value(s[i])) < 0)
			return -1;
	}
	uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
	o[0] = (uint8_t)(x >> 16);
	o[1] = (uint8_t)(x >> 8);
	o[2] = (uint8_t)x;
	return 3 - pad;
}

int b64_decode(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s), k = 0;
	uint8_t *buf;

	if (n % 4)
		return err_corrupt("base64: length %zu is not a multiple of 4", n);
	buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return err_set(ENOMEM, "base64: out of memory");
	for (size_t i = 0; i < n; i += 4) {
		int r = b64_group(s + i, i + 4 == n, buf + k);
		if (r < 0) {
			free(buf);
			return err_corrupt("base64: bad character near offset %zu", i);
		}
		k += (size_t)r;
	}
	buf[k] = '\0';
	*out = (char *)buf;
	*len = k;
	return 0;
}
