/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-wire: request validation and option decoding, table-driven. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nbd-int.h"

#define MIB (UINT64_C(1) << 20)

struct req_case {
	uint16_t type, flags;
	uint64_t off;
	uint32_t len;
	bool readonly, structured, meta;
	int want;
};

static const struct req_case req_cases[] = {
	{ NBD_CMD_READ, 0, 0, 4096, false, false, false, 0 },
	{ NBD_CMD_READ, 0, 16 * MIB - 512, 512, false, false, false, 0 },
	{ NBD_CMD_READ, 0, 16 * MIB - 512, 1024, false, false, false, NBD_EINVAL },
	{ NBD_CMD_READ, 0, UINT64_MAX - 10, 100, false, false, false, NBD_EINVAL },
	{ NBD_CMD_READ, 0, 0, NBD_MAX_PAYLOAD + 1, false, false, false, NBD_EOVERFLOW },
	{ NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512, false, false, false, NBD_EINVAL },
	{ NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512, false, true, false, 0 },
	{ NBD_CMD_READ, NBD_CMD_FLAG_FUA, 0, 512, false, false, false, 0 },
	{ NBD_CMD_READ, NBD_CMD_FLAG_NO_HOLE, 0, 512, false, false, false, NBD_EINVAL },
	{ NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512, false, false, false, 0 },
	{ NBD_CMD_WRITE, 0, 16 * MIB, 1, false, false, false, NBD_ENOSPC },
	{ NBD_CMD_WRITE, 0, 0, 512, true, false, false, NBD_EPERM },
	{ NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO, 0, 4096,
	  false, false, false, 0 },
	{ NBD_CMD_WRITE_ZEROES, 0, 16 * MIB, 4096, false, false, false, NBD_ENOSPC },
	{ NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_DF, 0, 4096, false, true, false, NBD_EINVAL },
	{ NBD_CMD_TRIM, 0, 0, UINT32_MAX, false, false, false, NBD_EINVAL },
	{ NBD_CMD_TRIM, 0, 0, 4096, true, false, false, NBD_EPERM },
	{ NBD_CMD_FLUSH, 0, 0, 0, true, false, false, 0 },
	{ NBD_CMD_FLUSH, 0, 1, 0, false, false, false, NBD_EINVAL },
	{ NBD_CMD_BLOCK_STATUS, 0, 0, 4096, false, true, false, NBD_EINVAL },
	{ NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE, 0, 4096, true, true, true, 0 },
	{ NBD_CMD_BLOCK_STATUS, 0, 0, 0, false, true, true, NBD_EINVAL },
	{ NBD_CMD_CACHE, 0, 0, 4096, false, false, false, NBD_EINVAL },
	{ 99, 0, 0, 0, false, false, false, NBD_EINVAL },
};

static void encode(uint8_t *b, uint16_t flags, uint16_t type, uint64_t off, uint32_t len)
{
	be32_put(b, NBD_REQUEST_MAGIC);
	be16_put(b + 4, flags);
	be16_put(b + 6, type);
	be64_put(b + 8, 0x1122334455667788u);
	be64_put(b + 16, off);
	be32_put(b + 24, len);
}

static void test_requests(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(req_cases); i++) {
		const struct req_case *c = &req_cases[i];
		struct nbd_limits lim = { 16 * MIB, NBD_MAX_PAYLOAD, c->readonly,
					  c->structured, c->meta };
		uint8_t b[NBD_REQUEST_SIZE];
		struct nbd_request r;

		encode(b, c->flags, c->type, c->off, c->len);
		assert_int_equal(nbd_parse_request(b, sizeof b, &r), 0);
		assert_true(r.cookie == 0x1122334455667788u && r.off == c->off && r.len == c->len);
		if (nbd_check_request(&r, &lim) != c->want)
			fail_msg("case %zu: got %d, want %d", i, nbd_check_request(&r, &lim), c->want);
	}
}

static void test_bad_header(void **state)
{
	uint8_t b[NBD_REQUEST_SIZE];
	struct nbd_request r;

	encode(b, 0, 0, 0, 0);
	assert_int_equal(nbd_parse_request(b, sizeof b - 1, &r), -1);
	b[0] ^= 1;
	assert_int_equal(nbd_parse_request(b, sizeof b, &r), -1);
}

static size_t put_str(uint8_t *p, const char *s)
{
	be32_put(p, (uint32_t)strlen(s));
	memcpy(p + 4, s, strlen(s));
	return 4 + strlen(s);
}

static void test_info_opt(void **state)
{
	uint8_t d[64];
	size_t n = put_str(d, "vol");
	struct nbd_info_opt o;

	be16_put(d + n, 2);
	be16_put(d + n + 2, NBD_INFO_NAME);
	be16_put(d + n + 4, NBD_INFO_BLOCK_SIZE);
	assert_int_equal(nbd_parse_info_opt(d, n + 6, &o), 0);
	assert_true(o.name_len == 3 && !memcmp(o.name, "vol", 3) && o.wants_block_size);
	assert_int_equal(nbd_parse_info_opt(d, n + 5, &o), -1);     /* odd request list */
	assert_int_equal(nbd_parse_info_opt(d, n + 1, &o), -1);     /* count cut short */
	be32_put(d, 1000);                                          /* name past the end */
	assert_int_equal(nbd_parse_info_opt(d, n + 6, &o), -1);
	d[0] = 0, d[1] = 0, d[2] = 0, d[3] = 3, d[5] = 0;           /* NUL in the name */
	assert_int_equal(nbd_parse_info_opt(d, n + 6, &o), -1);
}

static void test_meta_opt(void **state)
{
	uint8_t d[128];
	size_t n = put_str(d, "vol");
	struct nbd_meta_opt o;

	be32_put(d + n, 2);
	n += 4;
	n += put_str(d + n, "qemu:dirty-bitmap:x");
	n += put_str(d + n, "base:allocation");
	assert_int_equal(nbd_parse_meta_opt(d, n, false, &o), 0);
	assert_true(o.base_allocation);
	assert_int_equal(nbd_parse_meta_opt(d, n - 1, false, &o), -1);
	assert_int_equal(nbd_parse_meta_opt(d, n, true, &o), 0);

	n = put_str(d, "");
	be32_put(d + n, 1);
	n += 4;
	n += put_str(d + n, "base:");
	assert_int_equal(nbd_parse_meta_opt(d, n, false, &o), 0);
	assert_false(o.base_allocation);                  /* SET wants exact names */
	assert_int_equal(nbd_parse_meta_opt(d, n, true, &o), 0);
	assert_true(o.base_allocation);                   /* LIST: the namespace */

	n = put_str(d, "vol");
	be32_put(d + n, 0);
	assert_int_equal(nbd_parse_meta_opt(d, n + 4, true, &o), 0);
	assert_true(o.base_allocation);                   /* LIST all */
	assert_int_equal(nbd_parse_meta_opt(d, n + 4, false, &o), 0);
	assert_false(o.base_allocation);                  /* SET none */
	be32_put(d + n, 0xffffffff);                     /* absurd query count */
	assert_int_equal(nbd_parse_meta_opt(d, n + 4, false, &o), -1);
}

/* Feeds bytes through a pipe to the control channel's line reader. */
static int line_of(const char *bytes, size_t len, char *out, size_t n)
{
	int p[2], r;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], bytes, len), (ssize_t)len);
	close(p[1]);
	r = nbd_read_line(p[0], out, n, 1000);
	close(p[0]);
	return r;
}

static void test_read_line(void **state)
{
	char out[16], big[64];

	(void)state;
	assert_int_equal(line_of("status\n", 7, out, sizeof out), 0);
	assert_string_equal(out, "status");
	assert_int_equal(line_of("pause\r\nx", 8, out, sizeof out), 0);
	assert_string_equal(out, "pause");
	assert_int_equal(line_of("pa\0se\n", 6, out, sizeof out), -1);   /* NUL */
	assert_int_equal(line_of("status", 6, out, sizeof out), -1);       /* EOF */
	memset(big, 'a', sizeof big);
	big[sizeof big - 1] = '\n';
	assert_int_equal(line_of(big, sizeof big, out, sizeof out), -1);   /* overlong */
	assert_int_equal(line_of(big + 49, 15, out, sizeof out), 0);       /* 14 + newline fits */
}

/* A peer that never finishes its line costs the reader its deadline. */
static void test_read_line_deadline(void **state)
{
	char out[16];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "sta", 3), 3);
	assert_int_equal(nbd_read_line(p[0], out, sizeof out, 100), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_info_opt),
		cmocka_unit_test(test_meta_opt),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_read_line_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
