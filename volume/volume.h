/* volume.h: handlers and parameter schemas of the SR and Volume calls,
 * tied to call names in volume/entries.c. */
#ifndef LQ_VOLUME_ENTRY_H
#define LQ_VOLUME_ENTRY_H

#include "lq/rpc.h"

#define HANDLER(n) int n(const char *type, struct json_object *p, struct json_object **result)

extern const struct rpc_field sr_probe_schema[], sr_create_schema[], sr_attach_schema[],
	sr_only_schema[], sr_set_name_schema[], sr_set_description_schema[];
HANDLER(sr_probe);
HANDLER(sr_create);
HANDLER(sr_attach);
HANDLER(sr_detach);
HANDLER(sr_destroy);
HANDLER(sr_stat);
HANDLER(sr_ls);
HANDLER(sr_set_name);
HANDLER(sr_set_description);

extern const struct rpc_field vol_create_schema[], vol_key_schema[], vol_set_schema[],
	vol_unset_schema[], vol_set_name_schema[], vol_set_description_schema[],
	vol_resize_schema[];
HANDLER(vol_create);
HANDLER(vol_destroy);
HANDLER(vol_stat);
HANDLER(vol_set);
HANDLER(vol_unset);
HANDLER(vol_set_name);
HANDLER(vol_set_description);
HANDLER(vol_snapshot);
HANDLER(vol_clone);
HANDLER(vol_resize);

#undef HANDLER
#endif
