/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* b64: standard base64 (RFC 4648, with padding) for arbitrary bytes kept
 * in text formats (the SR metadata document). */
#ifndef LQ_B64_H
#define LQ_B64_H

#include <stddef.h>

/* Returns a malloc'd NUL-terminated encoding, or NULL (error recorded). */
char *b64_encode(const void *buf, size_t len);
/* Decodes strictly (no whitespace, correct padding) into a malloc'd
 * buffer with a NUL added; -1 with EUCLEAN on bad input. */
int b64_decode(const char *s, char **out, size_t *len);

#endif
