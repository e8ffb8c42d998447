/* rpc/main: one SMAPIv3 call from argv and stdin to stdout and the exit
 * status.  Nothing but the result (or the error JSON) reaches stdout;
 * logs go to stderr, which xapi-storage-script records. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static bool json_mode(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			return true;
	return false;
}

static int run(int argc, char **argv, const char *plugin, const struct rpc_field *schema,
	       rpc_handler fn, struct json_object **result)
{
	struct json_object *params = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!json_mode(argc, argv))
		return err_xapi(XERR_INVALID, "%s: only the --json calling convention is supported",
				argv[0]);
	if (read_stdin(&buf, &len) < 0)
		return -1;
	rc = rpc_parse(buf, len, &params);
	free(buf);
	if (rc == 0)
		rc = rpc_check(params, schema);
	if (rc == 0)
		rc = fn(plugin, params, result);
	json_object_put(params);
	return rc;
}

int rpc_main(int argc, char **argv, const char *plugin, const struct rpc_field *schema,
	     rpc_handler fn)
{
	struct json_object *result = NULL;

	err_clear();
	if (run(argc, argv, plugin, schema, fn, &result) == 0)
		return rpc_print(stdout, result) == 0 ? 0 : 1;
	log_error("%s: %s", argv[0], err_last()->msg);
	struct json_object *e = rpc_error_json();
	rpc_print(stdout, e);
	return 1;
}
