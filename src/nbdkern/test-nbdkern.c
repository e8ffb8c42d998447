/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-nbdkern: the client handshake against scripted servers (good,
 * refusing, lying, silent) over a socketpair, and the netlink message
 * builder and parser (nesting, overflow, malformed attributes). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <cmocka.h>

#include "lq/be.h"
#include "lq/err.h"
#include "lq/nbdkern.h"
#include "nbdkern-int.h"
#include "../nbd/nbd-proto.h"

struct script {
	uint8_t b[1024];
	size_t n;
};

static void put64(struct script *s, uint64_t v) { be64_put(s->b + s->n, v); s->n += 8; }
static void put32(struct script *s, uint32_t v) { be32_put(s->b + s->n, v); s->n += 4; }
static void put16(struct script *s, uint16_t v) { be16_put(s->b + s->n, v); s->n += 2; }

static void greeting(struct script *s)
{
	put64(s, NBD_MAGIC);
	put64(s, NBD_OPT_MAGIC);
	put16(s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
}

static void reply(struct script *s, uint32_t type, uint32_t len)
{
	put64(s, NBD_REP_MAGIC);
	put32(s, NBD_OPT_GO);
	put32(s, type);
	put32(s, len);
}

static void info_export(struct script *s, uint64_t size, uint16_t flags)
{
	reply(s, NBD_REP_INFO, 12);
	put16(s, NBD_INFO_EXPORT);
	put64(s, size);
	put16(s, flags);
}

/* The whole server side is written up front (it fits the socket
 * buffer), then the stream ends; the client's bytes are left unread. */
static int run(const struct script *s, struct nbdkern_export *e, int timeout_ms)
{
	int sv[2], r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], s->b, s->n), (ssize_t)s->n);
	shutdown(sv[1], SHUT_WR);               /* then end of stream */
	r = nbdkern_handshake(sv[0], "vol", e, timeout_ms);
	close(sv[0]);
	close(sv[1]);
	return r;
}

static void test_go(void **state)
{
	struct script s = { 0 };
	struct nbdkern_export e = { 0 };

	greeting(&s);
	info_export(&s, 1u << 30, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH);
	reply(&s, NBD_REP_INFO, 3);              /* unknown info, skipped */
	put16(&s, 99);
	s.b[s.n++] = 0;
	reply(&s, NBD_REP_ACK, 0);
	assert_int_equal(run(&s, &e, 2000), 0);
	assert_int_equal(e.size, 1u << 30);
	assert_int_equal(e.flags, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH);
}

static void test_refused(void **state)
{
	struct script s = { 0 };
	struct nbdkern_export e;

	greeting(&s);
	reply(&s, NBD_REP_ERR_UNKNOWN, 7);
	memcpy(s.b + s.n, "no\x01such", 7);
	s.n += 7;
	assert_int_equal(run(&s, &e, 2000), -1);
	assert_int_equal(err_errnum(), ENOENT);
	assert_non_null(strstr(err_last()->msg, ": no)"));
}

static void test_ack_without_size(void **state)
{
	struct script s = { 0 };
	struct nbdkern_export e;

	greeting(&s);
	reply(&s, NBD_REP_ACK, 0);
	assert_int_equal(run(&s, &e, 2000), -1);
	assert_int_equal(err_errnum(), EPROTO);
}

static void test_bad_magic(void **state)
{
	struct script s = { 0 };
	struct nbdkern_export e;

	put64(&s, NBD_MAGIC);
	put64(&s, 0x00420281861253ull);         /* oldstyle */
	put16(&s, 0);
	assert_int_equal(run(&s, &e, 2000), -1);
	assert_int_equal(err_errnum(), EPROTO);
}

/* A reply claiming 4 GiB: the client skips what it can read, then the
 * closed socket ends the handshake; it never allocates the length. */
static void test_huge_reply_then_eof(void **state)
{
	struct script s = { 0 };
	struct nbdkern_export e;

	greeting(&s);
	reply(&s, NBD_REP_INFO, UINT32_MAX);
	assert_int_equal(run(&s, &e, 2000), -1);
	assert_int_equal(err_errnum(), ECONNRESET);
}

/* A server that says nothing more: the deadline ends the wait. */
static void test_silent(void **state)
{
	struct script s = { 0 };
	struct nbdkern_export e;
	int sv[2];

	greeting(&s);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], s.b, s.n), (ssize_t)s.n);
	assert_int_equal(nbdkern_handshake(sv[0], "vol", &e, 200), -1);
	assert_int_equal(err_errnum(), ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

static void test_msg_nest(void **state)
{
	struct nk_msg m;
	struct nk_attr socks, item;
	uint32_t fd = 0;
	size_t a, b;

	nk_msg_init(&m, 42, 1, 1);
	nk_put_u64(&m, 2, 12345);
	a = nk_nest_start(&m, 7);
	b = nk_nest_start(&m, 1);
	nk_put_u32(&m, 1, 9);
	nk_nest_end(&m, b);
	nk_nest_end(&m, a);
	assert_false(m.overflow);
	socks = nk_find(m.buf + 20, m.len - 20, 7);
	item = nk_find(socks.data, socks.len, 1);
	assert_int_equal(nk_u32(nk_find(item.data, item.len, 1), &fd), 0);
	assert_int_equal(fd, 9);
	assert_null(nk_find(m.buf + 20, m.len - 20, 3).data);
}

static void test_msg_overflow(void **state)
{
	char big[NK_MSG_MAX];
	struct nk_msg m;

	memset(big, 'x', sizeof big);
	nk_msg_init(&m, 42, 1, 1);
	nk_put(&m, 1, big, sizeof big);
	assert_true(m.overflow);
}

/* Attribute lengths beyond the buffer or below the header are refused. */
static void test_find_malformed(void **state)
{
	uint8_t p[16] = { 0 };
	struct nlattr a = { .nla_len = 40, .nla_type = 1 };

	memcpy(p, &a, sizeof a);
	assert_null(nk_find(p, sizeof p, 1).data);
	a.nla_len = 2;
	memcpy(p, &a, sizeof a);
	assert_null(nk_find(p, sizeof p, 1).data);
	assert_int_equal(nk_u32(nk_find(p, 0, 1), &(uint32_t){ 0 }), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_ack_without_size),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_huge_reply_then_eof),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_msg_nest),
		cmocka_unit_test(test_msg_overflow),
		cmocka_unit_test(test_find_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
