/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8: strict UTF-8 validation (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), for text that reaches JSON output
 * or the logs from outside. */
#ifndef LQ_UTF8_H
#define LQ_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s (n bytes available), or
 * 0 when s does not start with one. */
size_t utf8_seq_len(const char *s, size_t n);
/* Whether s[0..n) is valid UTF-8; if not and bad is not NULL, *bad is
 * the offset of the first invalid byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad);

#endif
