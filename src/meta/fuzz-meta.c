/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the record parser.  The input is taken as a record
 * payload of each kind in turn; the header and crc are built around it
 * so the fuzzer reaches the XML validation instead of the checksum. */
#include <stdlib.h>
#include <string.h>

#include "lq/meta.h"
#include "../src/meta/meta-int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const uint8_t uuid[16] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0x4c, 0xcc,
					  0x8d, 0xdd, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	unsigned char *run;

	if (size == 0 || size > META_REC_MAX - META_REC_HDR)
		return 0;
	run = calloc(1, META_REC_MAX);
	if (!run)
		return 0;
	for (int kind = MK_SR; kind <= MK_JOURNAL; kind++) {
		rec_image(run, (enum meta_kind)kind, uuid, (const char *)data, size);
		meta_record_try(run, rec_blocks_for(size) * META_BLOCK);
	}
	free(run);
	return 0;
}
