/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc/range: integers beyond int64 in the parameter text.
 *
 * json-c saturates an integer beyond int64 to INT64_MIN or INT64_MAX
 * (keeping 2^63..2^64-1 as unsigned), so the parsed value no longer
 * tells whether the caller sent it.  The (already well-formed) input is
 * scanned once more for integer tokens: one that is the value of a
 * top-level field is noted against the field's name, for rpc_check to
 * refuse in the terms of the field's type; one nested deeper is refused
 * at once (no schema has integers inside containers). */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lq/err.h"
#include "lq/rpc.h"
#include "rpc-int.h"

/* Longest token quoted in a message. */
#define TOKEN_SHOWN 40

struct scan {
	const char *p, *end;
	int depth;
	const char *str, *key;       /* last string token, current field name */
	size_t str_len, key_len;     /* (both with their quotes) */
	struct json_object *over;    /* [[name, token], ...] */
};

static bool int64_fits(const char *p, size_t n)
{
	char tok[32];

	if (n >= sizeof tok)
		return false;
	memcpy(tok, p, n);
	tok[n] = '\0';
	errno = 0;
	(void)strtoll(tok, NULL, 10);
	return errno != ERANGE;
}

static void skip_string(struct scan *s)
{
	const char *start = s->p++;

	while (s->p < s->end && *s->p != '"')
		s->p += *s->p == '\\' && s->p + 1 < s->end ? 2 : 1;
	if (s->p < s->end)
		s->p++;
	s->str = start;
	s->str_len = (size_t)(s->p - start);
}

/* The field name as json-c decodes it (escapes and all). */
static struct json_object *key_name(const struct scan *s)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *k = NULL;

	if (tok && s->key)
		k = json_tokener_parse_ex(tok, s->key, (int)s->key_len);
	json_tokener_free(tok);
	return k ? k : json_object_new_string("?");
}

static struct json_object *token_text(const char *p, size_t n)
{
	char shown[TOKEN_SHOWN + 4];

	if (n > TOKEN_SHOWN) {
		memcpy(shown, p, TOKEN_SHOWN);
		strcpy(shown + TOKEN_SHOWN, "...");
		return json_object_new_string(shown);
	}
	return json_object_new_string_len(p, (int)n);
}

static int note_over(struct scan *s, const char *tok, size_t n)
{
	struct json_object *pair = json_object_new_array();

	if (!s->over)
		s->over = json_object_new_array();
	if (!pair || !s->over || json_object_array_add(pair, key_name(s)) < 0 ||
	    json_object_array_add(pair, token_text(tok, n)) < 0 ||
	    json_object_array_add(s->over, pair) < 0) {
		json_object_put(pair);
		return err_set(ENOMEM, "out of memory");
	}
	return 0;
}

static int number(struct scan *s)
{
	const char *start = s->p;
	bool integer = true;
	size_t n;

	for (; s->p < s->end && *s->p && strchr("+-0123456789.eE", *s->p); s->p++)
		if (strchr(".eE", *s->p))
			integer = false;
	n = (size_t)(s->p - start);
	if (!integer || int64_fits(start, n))
		return 0;
	if (s->depth == 1)
		return note_over(s, start, n);
	return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=stdin ty=int64 "
			"desc=integer %.*s%s out of range", (int)(n < TOKEN_SHOWN ? n : TOKEN_SHOWN),
			start, n > TOKEN_SHOWN ? "..." : "");
}

static int scan_step(struct scan *s)
{
	char c = *s->p;

	if (c == '"') {
		skip_string(s);
		return 0;
	}
	if (c == '-' || isdigit((unsigned char)c))
		return number(s);
	if (c == '{' || c == '[')
		s->depth++;
	else if (c == '}' || c == ']')
		s->depth--;
	else if (c == ':' && s->depth == 1) {
		s->key = s->str;
		s->key_len = s->str_len;
	}
	s->p++;
	return 0;
}

int rpc_range_scan(const char *buf, size_t len, struct json_object **over)
{
	struct scan s = { .p = buf, .end = buf + len };

	while (s.p < s.end)
		if (scan_step(&s) < 0) {
			json_object_put(s.over);
			return -1;
		}
	*over = s.over;
	return 0;
}

const char *rpc_range_over(struct json_object *params, const char *name)
{
	struct json_object *over = json_object_get_userdata(params);

	for (size_t i = 0; over && i < json_object_array_length(over); i++) {
		struct json_object *pair = json_object_array_get_idx(over, i);
		if (!strcasecmp(json_object_get_string(json_object_array_get_idx(pair, 0)), name))
			return json_object_get_string(json_object_array_get_idx(pair, 1));
	}
	return NULL;
}
