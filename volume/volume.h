/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volume.h: handlers of the SR and Volume calls, tied to call names and
 * schemas in volume/entries.c. */
#ifndef LQ_VOLUME_ENTRY_H
#define LQ_VOLUME_ENTRY_H

#include "lq/rpc.h"

#define HANDLER(n) int n(const char *type, struct json_object *p, struct json_object **result)

HANDLER(sr_probe);
HANDLER(sr_create);
HANDLER(sr_attach);
HANDLER(sr_detach);
HANDLER(sr_destroy);
HANDLER(sr_stat);
HANDLER(sr_ls);
HANDLER(sr_set_name);
HANDLER(sr_set_description);

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
HANDLER(vol_compose);

#undef HANDLER
#endif
