/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-request: libFuzzer target for everything the server decodes from
 * a client before acting on it: request headers and their validation,
 * and the INFO/GO and META_CONTEXT option payloads.  The first byte
 * picks the decoder and the export's shape, the rest is the input. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nbd-int.h"

static void fuzz_request(uint8_t sel, const uint8_t *d, size_t n)
{
	struct nbd_limits lim = {
		.size = sel & 0x10 ? UINT64_C(1) << 40 : 1 << 20,
		.max_payload = NBD_MAX_PAYLOAD,
		.readonly = sel & 0x20,
		.structured = sel & 0x40,
		.meta_base = sel & 0x80,
	};
	struct nbd_request r;
	uint64_t end;
	int e;

	if (nbd_parse_request(d, n, &r) < 0)
		return;
	e = nbd_check_request(&r, &lim);
	if (e)
		return;
	/* What the server would then do must be within the export. */
	assert(!ADD_OVERFLOW(r.off, (uint64_t)r.len, &end) && end <= lim.size);
	assert(r.type != NBD_CMD_READ || r.len <= lim.max_payload);
	assert(!lim.readonly || r.type == NBD_CMD_READ || r.type == NBD_CMD_FLUSH ||
	       r.type == NBD_CMD_BLOCK_STATUS);
}

static void fuzz_info(const uint8_t *d, size_t n)
{
	struct nbd_info_opt o;

	if (nbd_parse_info_opt(d, n, &o) == 0) {
		assert(o.name >= d && o.name + o.name_len <= d + n);
		assert(!memchr(o.name, 0, o.name_len));
	}
}

static void fuzz_meta(const uint8_t *d, size_t n, bool list)
{
	struct nbd_meta_opt o;

	if (nbd_parse_meta_opt(d, n, list, &o) == 0)
		assert(o.name >= d && o.name + o.name_len <= d + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_request(data[0], data + 1, size - 1);
		break;
	case 1:
		fuzz_info(data + 1, size - 1);
		break;
	default:
		fuzz_meta(data + 1, size - 1, data[0] & 1);
		break;
	}
	return 0;
}
