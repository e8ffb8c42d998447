/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc/error: the error record (lq/err.h) as the error JSON that
 * xapi-storage-script parses: {"code", "params", "backtrace"}.
 *
 * Three kinds of record codes (docs/errors.md lists them all):
 *  - the IDL's exception names and our own argument errors: printed as
 *    code SR_BACKEND_FAILURE, params [name, message], the way the Python
 *    bindings print an exception;
 *  - XenAPI codes (all capitals): printed as they are, with the fixed
 *    leading params xapi expects for that code;
 *  - no code (library failures): SR_BACKEND_FAILURE with
 *    ["Metadata_corrupt", message] for corrupt on-disk state, else
 *    ["Internal_error", message]. */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>

#include "lq/err.h"
#include "lq/rpc.h"

struct xapi_code {
	const char *code;
	const char *first;  /* leading param, or NULL for none */
	bool message;       /* append the message as a param */
};

static const struct xapi_code xapi_codes[] = {
	{ XERR_INVALID_SIZE, "VDI Invalid size", true },
	{ XERR_VDI_IN_USE, "VDIInUse", true },
	{ XERR_SR_NO_SPACE, "There is insufficient space", true },
	{ XERR_SR_NOT_EMPTY, NULL, false },
};

static bool is_xapi_code(const char *c)
{
	for (; *c; c++)
		if (islower((unsigned char)*c))
			return false;
	return true;
}

static void add_str(struct json_object *a, const char *s)
{
	json_object_array_add(a, json_object_new_string(s));
}

static void fill_params(struct json_object *params, const struct err_record *r,
			const char **code)
{
	if (!r->code[0]) {
		add_str(params, r->errnum == EUCLEAN ? "Metadata_corrupt" : "Internal_error");
		add_str(params, r->msg);
	} else if (!is_xapi_code(r->code)) {
		add_str(params, r->code);
		add_str(params, r->msg);
	} else {
		*code = r->code;
		for (size_t i = 0; i < sizeof xapi_codes / sizeof xapi_codes[0]; i++)
			if (!strcmp(xapi_codes[i].code, r->code)) {
				if (xapi_codes[i].first)
					add_str(params, xapi_codes[i].first);
				if (xapi_codes[i].message)
					add_str(params, r->msg);
				return;
			}
		add_str(params, r->msg);
	}
}

static struct json_object *backtrace(const struct err_record *r)
{
	struct json_object *bt = json_object_new_object();
	struct json_object *files = json_object_new_array();
	struct json_object *lines = json_object_new_array();

	if (r->file) {
		add_str(files, r->file);
		json_object_array_add(lines, json_object_new_int(r->line));
	}
	json_object_object_add(bt, "error", json_object_new_string(r->msg));
	json_object_object_add(bt, "files", files);
	json_object_object_add(bt, "lines", lines);
	return bt;
}

struct json_object *rpc_error_json(void)
{
	const struct err_record *r = err_last();
	const char *code = "SR_BACKEND_FAILURE";
	struct json_object *o = json_object_new_object();
	struct json_object *params = json_object_new_array();

	if (!o || !params) {
		json_object_put(o);
		json_object_put(params);
		return NULL;
	}
	fill_params(params, r, &code);
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "params", params);
	json_object_object_add(o, "backtrace", backtrace(r));
	return o;
}

void rpc_error_names(const char **code, const char **name)
{
	const struct err_record *r = err_last();

	*code = "SR_BACKEND_FAILURE";
	*name = NULL;
	if (!r->code[0])
		*name = r->errnum == EUCLEAN ? "Metadata_corrupt" : "Internal_error";
	else if (!is_xapi_code(r->code))
		*name = r->code;
	else
		*code = r->code;
}
