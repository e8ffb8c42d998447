/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc/argv: the command-line form of a call, as the toolstack's
 * static-vdis script uses it at boot, before xapi runs:
 *
 *   <call> <dbg> <arg>... [--<dict> <key> <value>]...
 *
 * The positional arguments are the call's non-dictionary parameters in
 * the IDL's order (dbg first); a dictionary parameter is given as an
 * option repeated once per pair and is empty when absent.  This is the
 * layout of the argument parsers the IDL's Python bindings generate.
 * The words become the same parameter object the --json form reads, so
 * both forms then go through one schema check: strings as they are,
 * bools as true/false (any case), integers as decimal int64. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lq/err.h"
#include "lq/rpc.h"
#include "rpc-int.h"

struct argv_state {
	const struct rpc_field *schema;
	const struct rpc_field *next;   /* the next positional field */
	struct json_object *params;
	bool options_done;              /* after "--" every word is positional */
};

static const struct rpc_field *next_positional(const struct rpc_field *f)
{
	while (f->name && f->type == RPC_DICT)
		f++;
	return f;
}

static const struct rpc_field *dict_field(const struct rpc_field *schema, const char *name)
{
	for (const struct rpc_field *f = schema; f->name; f++)
		if (f->type == RPC_DICT && !strcmp(f->name, name))
			return f;
	return NULL;
}

/* A word that reads as an option: a dash followed by anything but a
 * digit (so "-1" stays a value, as in the generated parsers). */
static bool looks_like_option(const char *w)
{
	return w[0] == '-' && w[1] && !(w[1] >= '0' && w[1] <= '9');
}

static int bool_value(const struct rpc_field *f, const char *w, struct json_object **v)
{
	if (strcasecmp(w, "true") && strcasecmp(w, "false"))
		return err_xapi(XERR_TYPE, "TypeError expected=bool actual=%.200s (field %s)",
				w, f->name);
	*v = json_object_new_boolean(!strcasecmp(w, "true"));
	return 0;
}

/* Decimal only, no blanks: "12", "-1", "+7".  Beyond int64 is refused
 * like the same number in the JSON form. */
static int int_value(const struct rpc_field *f, const char *w, struct json_object **v)
{
	const char *d = w + (*w == '-' || *w == '+');
	char *end;
	long long n;

	if (!*d || strspn(d, "0123456789") != strlen(d))
		return err_xapi(XERR_TYPE, "TypeError expected=int64 actual=%.200s (field %s)",
				w, f->name);
	errno = 0;
	n = strtoll(w, &end, 10);
	if (errno == ERANGE && f->type == RPC_SIZE)
		return err_xapi(XERR_INVALID_SIZE, "%s %.200s is out of range", f->name, w);
	if (errno == ERANGE)
		return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=%s ty=int64 "
				"desc=%.200s is out of range", f->name, w);
	*v = json_object_new_int64(n);
	return 0;
}

static int word_value(const struct rpc_field *f, const char *w, struct json_object **v)
{
	*v = NULL;
	switch (f->type) {
	case RPC_BOOL:
		return bool_value(f, w, v);
	case RPC_INT64:
	case RPC_SIZE:
		return int_value(f, w, v);
	default:
		*v = json_object_new_string(w);
		return 0;
	}
}

static int add(struct json_object *o, const char *name, struct json_object *v)
{
	if (!v || json_object_object_add(o, name, v) < 0) {
		json_object_put(v);
		return err_set(ENOMEM, "out of memory");
	}
	return 0;
}

static int positional(struct argv_state *st, const char *w)
{
	struct json_object *v;

	if (!st->next->name)
		return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=arguments ty=%s "
				"desc=unexpected argument '%.200s'", "command line", w);
	if (word_value(st->next, w, &v) < 0)
		return -1;
	if (add(st->params, st->next->name, v) < 0)
		return -1;
	st->next = next_positional(st->next + 1);
	return 0;
}

/* --<dict> KEY VALUE: one pair; a key given twice is refused rather than
 * one of its values silently dropped. */
static int dict_pair(struct argv_state *st, const struct rpc_field *f, int argc,
		     char *const *argv, int *i)
{
	struct json_object *d = json_object_object_get(st->params, f->name);

	if (*i + 2 >= argc)
		return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=%s ty=dict "
				"desc=--%s takes a key and a value", f->name, f->name);
	if (json_object_object_get_ex(d, argv[*i + 1], NULL))
		return err_xapi(XERR_INVALID, "%s key '%.200s' given twice", f->name,
				argv[*i + 1]);
	if (add(d, argv[*i + 1], json_object_new_string(argv[*i + 2])) < 0)
		return -1;
	*i += 2;
	return 0;
}

static int option(struct argv_state *st, int argc, char *const *argv, int *i)
{
	const char *w = argv[*i];
	const struct rpc_field *f = strncmp(w, "--", 2) ? NULL : dict_field(st->schema, w + 2);

	if (!strcmp(w, "--")) {
		st->options_done = true;
		return 0;
	}
	if (!f)
		return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=arguments ty=%s "
				"desc=unknown option '%.200s'", "command line", w);
	return dict_pair(st, f, argc, argv, i);
}

/* Every dictionary starts empty: an absent option is an empty one. */
static int empty_dicts(struct json_object *o, const struct rpc_field *schema)
{
	for (const struct rpc_field *f = schema; f->name; f++)
		if (f->type == RPC_DICT && add(o, f->name, json_object_new_object()) < 0)
			return -1;
	return 0;
}

static int parse_words(struct argv_state *st, int argc, char *const *argv)
{
	for (int i = 0; i < argc; i++) {
		int r = !st->options_done && looks_like_option(argv[i])
				? option(st, argc, argv, &i)
				: positional(st, argv[i]);
		if (r < 0)
			return -1;
	}
	return 0;
}

int rpc_parse_argv(int argc, char *const *argv, const struct rpc_field *schema,
		   struct json_object **out)
{
	struct argv_state st = { schema, next_positional(schema), json_object_new_object(), false };

	if (!st.params)
		return err_set(ENOMEM, "out of memory");
	if (empty_dicts(st.params, schema) < 0 || parse_words(&st, argc, argv) < 0 ||
	    rpc_strings_ok(st.params, NULL) < 0) {
		json_object_put(st.params);
		return -1;
	}
	*out = st.params;
	return 0;
}
