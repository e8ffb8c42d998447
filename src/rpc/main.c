/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc/main: one SMAPIv3 call from argv and stdin to stdout and the exit
 * status.  Nothing but the result (or the error JSON) reaches stdout;
 * logs go to stderr, which xapi-storage-script records. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/clock.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/log.h"
#include "lq/rpc.h"
#include "lq/utf8.h"

/* Write JSON text s as valid UTF-8: json-c copies string bytes as they
 * are, and a string from an older SR document (or a message cut inside a
 * character) may hold invalid UTF-8.  Outside strings json-c writes only
 * ASCII, so each invalid byte becomes the escape of U+FFFD. */
static int put_text(const char *s, FILE *f)
{
	size_t n = strlen(s);

	while (n) {
		size_t bad = n;
		utf8_valid(s, n, &bad);
		if (fwrite(s, 1, bad, f) != bad)
			return EOF;
		if (bad == n)
			break;
		if (fputs("\\ufffd", f) == EOF)
			return EOF;
		s += bad + 1;
		n -= bad + 1;
	}
	return 0;
}

int rpc_print(void *fp, struct json_object *v)
{
	FILE *f = fp;
	const char *s = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE)
			  : "null";
	int rc = 0;

	if (!s || put_text(s, f) == EOF || fputc('\n', f) == EOF || fflush(f) == EOF)
		rc = err_sys("writing the result: %m");
	json_object_put(v);
	return rc;
}

static int read_stdin(char **buf, size_t *len)
{
	if (file_read_fd(STDIN_FILENO, "stdin", RPC_MAX_INPUT, buf, len) == 0)
		return 0;
	if (err_last()->errnum == EFBIG)
		return err_xapi(XERR_UNMARSHAL, "UnmarshalException thing=stdin ty=json "
				"desc=input larger than %u bytes", RPC_MAX_INPUT);
	return -1;
}

struct rpc_call {
	const char *plugin;
	const struct rpc_field *schema;
	rpc_handler fn;
};

static bool json_mode(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			return true;
	return false;
}

/* A field for the call lines: a string when present as one (the schema
 * is not checked yet when the start line is written). */
static const char *log_str(struct json_object *params, const char *name)
{
	struct json_object *v = params ? rpc_field(params, name) : NULL;

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The start line, once the parameters are read (or could not be). */
static void log_start(struct log_call *lc, struct json_object *params)
{
	lc->dbg = log_str(params, "dbg");
	lc->sr = log_str(params, "sr");
	lc->key = log_str(params, "key");
	lc->uri = log_str(params, "uri");
	log_call_start(lc);
}

static int run(int argc, char **argv, const struct rpc_call *call, struct log_call *lc,
	       struct json_object **params, struct json_object **result)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (json_mode(argc, argv)) {
		rc = read_stdin(&buf, &len);
		if (rc == 0)
			rc = rpc_parse(buf, len, params);
		free(buf);
	} else {
		rc = rpc_parse_argv(argc - 1, argv + 1, call->schema, params);
	}
	log_start(lc, *params);
	if (rc == 0)
		rc = rpc_check(*params, call->schema);
	if (rc == 0)
		rc = call->fn(call->plugin, *params, result);
	return rc;
}

static int fail(const char *argv0, const struct log_call *lc)
{
	const char *code, *name;

	log_error("%s: %s", argv0, err_last()->msg);
	rpc_error_names(&code, &name);
	log_call_end(lc, code, name, err_last()->msg);
	rpc_print(stdout, rpc_error_json());
	return 1;
}

int rpc_main(int argc, char **argv, const char *plugin, const struct rpc_field *schema,
	     rpc_handler fn)
{
	const struct rpc_call call = { plugin, schema, fn };
	const char *name = strrchr(argv[0], '/');
	struct log_call lc = { .name = name ? name + 1 : argv[0] };
	struct json_object *params = NULL, *result = NULL;
	int64_t start = clock_now_ms();
	int rc;

	err_clear();
	rc = run(argc, argv, &call, &lc, &params, &result);
	if (rc == 0)
		rc = rpc_print(stdout, result);
	lc.ms = clock_now_ms() - start;
	if (rc == 0)
		log_call_end(&lc, NULL, NULL, NULL);
	else
		rc = fail(argv[0], &lc);
	json_object_put(params);
	return rc;
}
