/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the parameter parsers and schema check, fed anything
 * a hostile caller could put on stdin, or (an input starting "argv\0")
 * on the command line: the rest, split at NUL bytes, is the words after
 * the call's name.  Whatever either accepts must print as valid UTF-8. */
#include <assert.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/rpc.h"
#include "lq/utf8.h"

static const struct rpc_field schema[] = {
	{ "dbg", RPC_STRING }, { "sr", RPC_STRING }, { "size", RPC_SIZE }, { "n", RPC_INT64 },
	{ "sharable", RPC_BOOL }, { "configuration", RPC_DICT }, { "o", RPC_OPT_STRING },
	{ NULL, 0 } };

#define ARGV_MAGIC "argv"
#define MAX_WORDS 64

static void check_accepted(struct json_object *p)
{
	const char *text = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);

	assert(text && utf8_valid(text, strlen(text), NULL));
	if (rpc_check(p, schema) == 0) {
		(void)rpc_str(p, "sr");
		(void)rpc_int64(p, "size");
		(void)rpc_bool(p, "sharable");
		assert(json_object_is_type(rpc_field(p, "configuration"), json_type_object));
	}
}

/* Split buf[0..n) (NUL at buf[n]) into words at NUL bytes, as execve
 * hands them over; a last NUL ends the last word. */
static int split_words(char *buf, size_t n, char **words)
{
	int nw = 0;

	for (size_t i = 0; i < n && nw < MAX_WORDS; i += strlen(buf + i) + 1)
		words[nw++] = buf + i;
	return nw;
}

static int parse_argv(const uint8_t *data, size_t size, struct json_object **p)
{
	size_t n = size - sizeof ARGV_MAGIC;
	char *buf = malloc(n + 1), *words[MAX_WORDS];
	int rc;

	if (!buf)
		return -1;
	memcpy(buf, data + sizeof ARGV_MAGIC, n);
	buf[n] = '\0';
	rc = rpc_parse_argv(split_words(buf, n, words), words, schema, p);
	free(buf);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *p = NULL, *e;
	bool argv = size >= sizeof ARGV_MAGIC && !memcmp(data, ARGV_MAGIC, sizeof ARGV_MAGIC);
	int rc = argv ? parse_argv(data, size, &p) : rpc_parse((const char *)data, size, &p);

	if (rc == 0) {
		check_accepted(p);
		json_object_put(p);
	}
	e = rpc_error_json();
	json_object_put(e);
	return 0;
}
