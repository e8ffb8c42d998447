/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* calls: the datapath plugin's handlers (rows in datapath/entries.c). */
#ifndef LQ_DATAPATH_CALLS_H
#define LQ_DATAPATH_CALLS_H

#include "lq/rpc.h"

int dp_query(const char *plugin, struct json_object *params, struct json_object **result);
int dp_diagnostics(const char *plugin, struct json_object *params, struct json_object **result);
int dp_open(const char *plugin, struct json_object *params, struct json_object **result);
int dp_attach(const char *plugin, struct json_object *params, struct json_object **result);
int dp_activate(const char *plugin, struct json_object *params, struct json_object **result);
int dp_activate_readonly(const char *plugin, struct json_object *params,
			 struct json_object **result);
int dp_deactivate(const char *plugin, struct json_object *params, struct json_object **result);
int dp_detach(const char *plugin, struct json_object *params, struct json_object **result);
int dp_close(const char *plugin, struct json_object *params, struct json_object **result);

#endif
