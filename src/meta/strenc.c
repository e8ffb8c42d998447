/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta/strenc: which strings XML 1.0 can carry verbatim.
 *
 * XML 1.0 has no way to represent most C0 control characters (not even
 * as character references), parsers turn CR into LF, and the document is
 * UTF-8, so anything else (invalid UTF-8, surrogates, U+FFFE/U+FFFF) is
 * stored base64-encoded instead; both forms decode to the same bytes. */
#include <stdint.h>
#include <string.h>

#include "lq/meta.h"

/* Length of the UTF-8 sequence at s and its code point, or 0 if invalid
 * (overlong forms and surrogates included). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80) { *cp = s[0]; return 1; }
	if ((s[0] & 0xe0) == 0xc0) { n = 2; c = s[0] & 0x1f; min = 0x80; }
	else if ((s[0] & 0xf0) == 0xe0) { n = 3; c = s[0] & 0x0f; min = 0x800; }
	else if ((s[0] & 0xf8) == 0xf0) { n = 4; c = s[0] & 0x07; min = 0x10000; }
	else return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static bool xml_char_ok(uint32_t c)
{
	if (c < 0x20)
		return c == '\t' || c == '\n';
	return c != 0xfffe && c != 0xffff;
}

bool meta_str_is_xml_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		size_t n = utf8_decode(p, &cp);
		if (!n || !xml_char_ok(cp))
			return false;
		p += n;
	}
	return true;
}
