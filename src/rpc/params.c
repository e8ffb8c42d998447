/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc/params: parsing the parameter object and checking it against a
 * call's schema.  Names match case-insensitively (rpclib lowercases
 * record fields); unknown fields are ignored.  Error texts follow what
 * the generated Python bindings print for the same faults. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lq/err.h"
#include "lq/rpc.h"
#include "lq/utf8.h"
#include "rpc-int.h"

static bool only_space(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!*p || !strchr(" \t\r\n", *p))
			return false;
	return true;
}

/* Every string of the parameters, names included, must be UTF-8, so that
 * nothing stored from them can make a later result invalid JSON text. */
static int text_ok(const char *s, size_t n, const char *field)
{
	size_t bad;

	if (utf8_valid(s, n, &bad))
		return 0;
	if (!field)
		return err_xapi(XERR_INVALID, "a field name is not valid UTF-8 (byte %zu)", bad);
	return err_xapi(XERR_INVALID, "field '%.64s': invalid UTF-8 at byte %zu", field, bad);
}

int rpc_strings_ok(struct json_object *v, const char *field)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return text_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v),
			       field);
	case json_type_object: {
		json_object_object_foreach(v, k, val) {
			if (text_ok(k, strlen(k), NULL) < 0 || rpc_strings_ok(val, k) < 0)
				return -1;
		}
		return 0;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (rpc_strings_ok(json_object_array_get_idx(v, i), field) < 0)
				return -1;
		return 0;
	default:
		return 0;
	}
}

static void put_userdata(struct json_object *o, void *userdata)
{
	(void)o;
	json_object_put(userdata);
}

/* Integers beyond int64 (see range.c): their list rides on the parsed
 * object until rpc_check looks at the schema. */
static int attach_ranges(struct json_object *o, const char *buf, size_t len)
{
	struct json_object *over;

	if (rpc_range_scan(buf, len, &over) < 0)
		return -1;
	if (over)
		json_object_set_userdata(o, over, put_userdata);
	return 0;
}

int rpc_parse(const char *buf, size_t len, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	enum json_tokener_error e;

	if (!tok)
		return err_set(ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = len > (size_t)INT32_MAX ? NULL : json_tokener_parse_ex(tok, buf, (int)len);
	e = json_tokener_get_error(tok);
	if (o && e == json_tokener_success && !only_space(buf + json_tokener_get_parse_end(tok), buf + len)) {
		json_object_put(o);
		o = NULL;
		e = json_tokener_error_parse_unexpected;
	}
	json_tokener_free(tok);
	if (!o) {
		const char *why = e == json_tokener_continue ? "truncated or empty input"
							     : json_tokener_error_desc(e);
		return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=stdin ty=json desc=%s", why);
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return err_xapi(XERR_UNMARSHAL,
				"UnmarshalException thing=params ty=dict desc=not a JSON object");
	}
	if (rpc_strings_ok(o, NULL) < 0 || attach_ranges(o, buf, len) < 0) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}

/* JSON null is a present field whose value is NULL in json-c. */
static bool lookup(struct json_object *params, const char *name, struct json_object **out)
{
	json_object_object_foreach(params, k, v) {
		if (!strcasecmp(k, name)) {
			*out = v;
			return true;
		}
	}
	*out = NULL;
	return false;
}

struct json_object *rpc_field(struct json_object *params, const char *name)
{
	struct json_object *v;

	lookup(params, name, &v);
	return v;
}

static const char *type_name(enum rpc_type t)
{
	switch (t) {
	case RPC_BOOL: return "bool";
	case RPC_INT64: return "int64";
	case RPC_SIZE: return "int64";
	case RPC_DICT: return "dict";
	default: return "string";
	}
}

static bool string_ok(struct json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v));
}

static bool dict_ok(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return false;
	json_object_object_foreach(v, k, val) {
		(void)k;
		if (!string_ok(val))
			return false;
	}
	return true;
}

static bool type_ok(struct json_object *v, enum rpc_type t)
{
	switch (t) {
	case RPC_BOOL: return json_object_is_type(v, json_type_boolean);
	case RPC_INT64:
	case RPC_SIZE: return json_object_is_type(v, json_type_int);
	case RPC_DICT: return dict_ok(v);
	default: return string_ok(v);
	}
}

static int type_error(const struct rpc_field *f, struct json_object *v)
{
	const char *actual = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);

	return err_xapi(XERR_TYPE, "TypeError expected=%s actual=%.200s (field %s)",
			type_name(f->type), actual ? actual : "?", f->name);
}

/* An integer field the caller set beyond int64: refused, never read as
 * json-c's saturated value.  A size is refused as an invalid size. */
static int range_error(struct json_object *params, const struct rpc_field *f)
{
	const char *tok;

	if (f->type != RPC_INT64 && f->type != RPC_SIZE)
		return 0;
	if (!(tok = rpc_range_over(params, f->name)))
		return 0;
	if (f->type == RPC_SIZE)
		return err_xapi(XERR_INVALID_SIZE, "%s %s is out of range", f->name, tok);
	return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=%s ty=int64 "
			"desc=%s is out of range", f->name, tok);
}

int rpc_check(struct json_object *params, const struct rpc_field *schema)
{
	for (const struct rpc_field *f = schema; f->name; f++) {
		struct json_object *v;
		bool present = lookup(params, f->name, &v);
		if (!present && f->type == RPC_OPT_STRING)
			continue;
		if (!present)
			return err_xapi(XERR_UNMARSHAL,
					"UnmarshalException thing=argument missing ty=%s desc=", f->name);
		if (!type_ok(v, f->type))
			return type_error(f, v);
		if (range_error(params, f) < 0)
			return -1;
	}
	return 0;
}

const char *rpc_str(struct json_object *params, const char *name)
{
	struct json_object *v = rpc_field(params, name);

	return v ? json_object_get_string(v) : NULL;
}

bool rpc_bool(struct json_object *params, const char *name)
{
	return json_object_get_boolean(rpc_field(params, name));
}

int64_t rpc_int64(struct json_object *params, const char *name)
{
	return json_object_get_int64(rpc_field(params, name));
}
