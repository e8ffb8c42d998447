/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpc-int: what the rpc module's files share and nobody else uses. */
#ifndef LQ_RPC_INT_H
#define LQ_RPC_INT_H

#include <stddef.h>

struct json_object;

/* Scan well-formed parameter text for integers beyond int64: refuses one
 * nested in a container; lists those of top-level fields in *over as
 * [[name, token], ...] (NULL when none). */
int rpc_range_scan(const char *buf, size_t len, struct json_object **over);
/* The token of field name (case-insensitive) if it was beyond int64,
 * from the list rpc_parse attached to params; else NULL. */
const char *rpc_range_over(struct json_object *params, const char *name);

/* Every string in v, names included, must be UTF-8 (field names the
 * error, NULL at the top). */
int rpc_strings_ok(struct json_object *v, const char *field);

#endif
