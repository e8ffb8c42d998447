/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/uri: the volume URI the datapath receives (format in lq/ops.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lq/err.h"
#include "lq/ops.h"
#include "lq/rpc.h"

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode s into o (which has room for 3 * strlen(s)). */
static char *encode(char *o, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/')) {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '%';
		*o++ = hex[*p >> 4];
		*o++ = hex[*p & 15];
	}
	*o = '\0';
	return o;
}

static bool type_ok(const char *t)
{
	size_t n = strlen(t);

	if (!n || n >= OPS_TYPE_MAX)
		return false;
	for (; *t; t++)
		if (!islower((unsigned char)*t) && !isdigit((unsigned char)*t) && *t != '-')
			return false;
	return true;
}

int ops_uri_format(const char *type, const char *sr, const char *key, char **out)
{
	size_t n = strlen(OPS_URI_SCHEME) + 3 + strlen(type) + 3 * (strlen(sr) + strlen(key)) + 2;
	char *buf, *o;

	if (!type_ok(type) || sr[0] != '/' || !key[0])
		return err_set(EINVAL, "cannot form a URI from type '%s', SR '%s', key '%s'",
			       type, sr, key);
	if (!(buf = malloc(n)))
		return err_set(ENOMEM, "out of memory");
	o = buf + sprintf(buf, "%s://%s", OPS_URI_SCHEME, type);
	o = encode(o, sr, true);
	*o++ = '/';
	encode(o, key, false);
	*out = buf;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode [s, end) into a malloc'd string; NUL and bad escapes refused. */
static char *decode(const char *s, const char *end)
{
	char *out = malloc((size_t)(end - s) + 1), *o = out;

	if (!out)
		return NULL;
	while (s < end) {
		int hi, lo;
		if (*s != '%') {
			*o++ = *s++;
			continue;
		}
		if (end - s < 3 || (hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0 || !(hi | lo)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		s += 3;
	}
	*o = '\0';
	return out;
}

static int bad_uri(const char *uri, const char *why)
{
	return err_xapi(XERR_INVALID, "malformed volume URI '%.200s': %s", uri, why);
}

int ops_uri_parse(const char *uri, struct ops_uri *out)
{
	size_t sl = strlen(OPS_URI_SCHEME);
	const char *auth, *path, *last;

	memset(out, 0, sizeof *out);
	if (strncasecmp(uri, OPS_URI_SCHEME, sl) || strncmp(uri + sl, "://", 3))
		return bad_uri(uri, "scheme is not " OPS_URI_SCHEME);
	auth = uri + sl + 3;
	path = strchr(auth, '/');
	if (!path || (size_t)(path - auth) >= OPS_TYPE_MAX)
		return bad_uri(uri, "no SR type");
	memcpy(out->type, auth, (size_t)(path - auth));
	if (!type_ok(out->type))
		return bad_uri(uri, "bad SR type");
	last = strrchr(path, '/');
	if (last == path || !last[1])
		return bad_uri(uri, "no SR or no key");
	out->sr = decode(path, last);
	out->key = decode(last + 1, last + strlen(last));
	if (!out->sr || !out->key || !out->sr[0] || !out->key[0]) {
		ops_uri_clear(out);
		return bad_uri(uri, "bad percent-encoding");
	}
	return 0;
}

void ops_uri_clear(struct ops_uri *u)
{
	free(u->sr);
	free(u->key);
	u->sr = u->key = NULL;
}
