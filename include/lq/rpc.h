/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc: the SMAPIv3 wire format, as xapi-storage-script speaks it.
 *
 * A call is one executable run as "<call> --json" with the call's named
 * parameters as one JSON object on stdin, or (the toolstack's static-vdis
 * script, at boot) as "<call> <dbg> <arg>..." with the parameters on the
 * command line (rpc/argv.c); the result is JSON on stdout either way.  On success the bare result
 * goes to stdout and the exit status is 0; on failure stdout carries
 * {"code": ..., "params": [...], "backtrace": {...}} and the status is 1.
 *
 * This module owns reading and checking the parameters (presence and JSON
 * type of every field, before anything is touched; names matched
 * case-insensitively like rpclib; unknown fields ignored), building the
 * IDL result shapes with their exact field names and JSON types, and
 * turning the error record (lq/err.h) into the error JSON.
 * See docs/errors.md for every code it prints.
 */
#ifndef LQ_RPC_H
#define LQ_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lq/xerr.h"

struct json_object;

/* Largest parameter object read from stdin. */
#define RPC_MAX_INPUT (64u << 20)

enum rpc_type {
	RPC_STRING,
	RPC_BOOL,
	RPC_INT64,       /* beyond int64: UnmarshalException */
	RPC_SIZE,        /* int64 byte size; beyond int64: XERR_INVALID_SIZE */
	RPC_DICT,        /* (string * string) list: object of strings */
	RPC_OPT_STRING,  /* optional string */
};

struct rpc_field {
	const char *name;
	enum rpc_type type;
};

/* Parse a parameter object: must be a JSON object, alone on the input
 * (surrounding whitespace allowed).  *out is owned by the caller
 * (json_object_put). */
int rpc_parse(const char *buf, size_t len, struct json_object **out);
/* The command-line form (rpc/argv.c): argv holds the words after the
 * call's name, dbg first; builds the object the JSON form would carry
 * for the same call.  Check it with rpc_check like a parsed one. */
int rpc_parse_argv(int argc, char *const *argv, const struct rpc_field *schema,
		   struct json_object **out);
/* Check every field of the NULL-name-terminated schema. */
int rpc_check(struct json_object *params, const struct rpc_field *schema);
/* Getters for checked fields.  Strings stay owned by params. */
const char *rpc_str(struct json_object *params, const char *name);
bool rpc_bool(struct json_object *params, const char *name);
int64_t rpc_int64(struct json_object *params, const char *name);
struct json_object *rpc_field(struct json_object *params, const char *name);

/* Result shapes of the IDL. */
struct rpc_kv {
	const char *k, *v;
};

struct rpc_volume {
	const char *key, *uuid, *name, *description;
	bool read_write, sharable;
	int64_t virtual_size, physical_utilisation;
	const char *const *uri;
	size_t nuri;
	const struct rpc_kv *keys;
	size_t nkeys;
};

struct rpc_sr_stat {
	const char *sr, *name, *uuid, *description;
	int64_t free_space, total_space;
	bool clustered;
};

/* Plugin.query: what differs between the plugins.  Vendor, copyright,
 * version and API version are the product's (lq/version.h). */
struct rpc_query {
	const char *plugin, *name, *description;
	const char *const *features;
	size_t nfeatures;
	const struct rpc_kv *configuration;
	size_t nconfiguration;
};

struct json_object *rpc_kv_json(const struct rpc_kv *kv, size_t n);
struct json_object *rpc_volume_json(const struct rpc_volume *v);
struct json_object *rpc_sr_stat_json(const struct rpc_sr_stat *s);
struct json_object *rpc_query_json(const struct rpc_query *q);
/* probe_result; stat may be NULL (the field is then omitted). */
struct json_object *rpc_probe_json(const struct rpc_kv *config, size_t n,
				   bool complete, const struct rpc_sr_stat *stat);

/* Serialise v (consumed) as one line on f. */
int rpc_print(void *f, struct json_object *v);
/* Build the error JSON from the error record. */
struct json_object *rpc_error_json(void);
/* What that JSON says, for the log: the code it prints and the error's
 * name (its first param when that names an exception, else NULL). */
void rpc_error_names(const char **code, const char **name);

/* A call's body: checked params in, result out (NULL means JSON null).
 * On failure it records the error and returns -1. */
typedef int (*rpc_handler)(const char *plugin, struct json_object *params,
			   struct json_object **result);
/* The whole protocol for one call: argv check, stdin, schema, handler,
 * stdout and exit status. */
int rpc_main(int argc, char **argv, const char *plugin,
	     const struct rpc_field *schema, rpc_handler fn);

#endif
