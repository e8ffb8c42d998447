/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uuid: random (version 4) UUIDs and the syntax check for UUIDs that come
 * from outside (SR uuids from xapi, volume keys).  Only the canonical
 * lower-case 8-4-4-4-12 form is produced; any case is accepted. */
#ifndef LQ_UUID_H
#define LQ_UUID_H

#include <stdbool.h>

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

/* Fill out with a fresh random UUID (from getrandom). */
int uuid_generate(char out[UUID_STR_LEN]);
bool uuid_is_valid(const char *s);

#endif
