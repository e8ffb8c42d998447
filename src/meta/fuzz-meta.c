/* libFuzzer target: the SR document parser.  The checksum is recomputed
 * over the input first, so the fuzzer reaches the XML validation instead
 * of stopping at the trailer every time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lq/meta.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *buf = malloc(size + 32), *out;
	struct meta_sr *sr;
	size_t len;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	snprintf(buf + size, 32, "<!-- crc32 %08lx -->\n", crc32(0L, data, (uInt)size));
	if (meta_parse(buf, size + 24, &sr) == 0) {
		if (meta_format(sr, &out, &len) == 0)
			free(out);
		meta_free(sr);
	}
	if (meta_parse((const char *)data, size, &sr) == 0) /* raw: trailer and all */
		meta_free(sr);
	free(buf);
	return 0;
}
