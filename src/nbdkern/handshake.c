/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkern-handshake: the client side of the NBD fixed-newstyle
 * handshake, ending in NBD_OPT_GO, so that the socket is in the
 * transmission phase when the kernel takes it.  The server is trusted
 * no more than any peer: every length is bounded and every read has a
 * deadline, so a stuck server ends in an error, not a hung call. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lq/be.h"
#include "lq/clock.h"
#include "lq/err.h"
#include "lq/nbdkern.h"
#include "../nbd/nbd-proto.h"

#define HS_MAX_REPLY 4096u       /* longer option replies are skipped */
#define HS_MAX_REPLIES 64        /* a server may not loop us forever */

struct hs {
	int fd;
	int64_t deadline_ms;
};

static int hs_wait(struct hs *h)
{
	struct pollfd p = { .fd = h->fd, .events = POLLIN };
	int64_t left = h->deadline_ms - clock_now_ms();
	int r;

	if (left <= 0)
		return err_set(ETIMEDOUT, "NBD handshake: the server does not answer");
	while ((r = poll(&p, 1, (int)left)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return err_sys("NBD handshake: poll: %m");
	return r ? 0 : err_set(ETIMEDOUT, "NBD handshake: the server does not answer");
}

static int hs_read(struct hs *h, void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r;

		if (hs_wait(h) < 0)
			return -1;
		r = recv(h->fd, (char *)buf + done, n - done, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys("NBD handshake: recv: %m");
		if (r == 0)
			return err_set(ECONNRESET, "NBD handshake: the server closed the connection");
		done += (size_t)r;
	}
	return 0;
}

static int hs_write(struct hs *h, const void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = send(h->fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys("NBD handshake: send: %m");
		done += (size_t)r;
	}
	return 0;
}

/* The greeting: fixed newstyle is required (the kernel cannot do the
 * oldstyle negotiation later either). */
static int hs_greeting(struct hs *h)
{
	uint8_t g[18], cf[4];

	if (hs_read(h, g, sizeof g) < 0)
		return -1;
	if (be64_get(g) != NBD_MAGIC || be64_get(g + 8) != NBD_OPT_MAGIC)
		return err_set(EPROTO, "NBD handshake: not a newstyle NBD server");
	if (!(be16_get(g + 16) & NBD_FLAG_FIXED_NEWSTYLE))
		return err_set(EPROTO, "NBD handshake: the server is not fixed-newstyle");
	be32_put(cf, NBD_FLAG_C_FIXED_NEWSTYLE |
		     (be16_get(g + 16) & NBD_FLAG_NO_ZEROES ? NBD_FLAG_C_NO_ZEROES : 0));
	return hs_write(h, cf, sizeof cf);
}

static int hs_send_go(struct hs *h, const char *export)
{
	size_t len = strlen(export);
	uint8_t m[16 + 4 + 255 + 2];

	if (len > 255)
		return err_set(EINVAL, "NBD handshake: export name too long");
	be64_put(m, NBD_OPT_MAGIC);
	be32_put(m + 8, NBD_OPT_GO);
	be32_put(m + 12, (uint32_t)(4 + len + 2));
	be32_put(m + 16, (uint32_t)len);
	memcpy(m + 20, export, len);
	be16_put(m + 20 + len, 0);              /* no information requests */
	return hs_write(h, m, 20 + len + 2);
}

/* Reads a reply's payload (at most HS_MAX_REPLY bytes kept) into buf. */
static int hs_payload(struct hs *h, uint32_t len, uint8_t *buf)
{
	uint8_t skip[512];

	if (hs_read(h, buf, len < HS_MAX_REPLY ? len : HS_MAX_REPLY) < 0)
		return -1;
	for (uint32_t left = len > HS_MAX_REPLY ? len - HS_MAX_REPLY : 0; left;) {
		uint32_t n = left < sizeof skip ? left : sizeof skip;

		if (hs_read(h, skip, n) < 0)
			return -1;
		left -= n;
	}
	return 0;
}

static int hs_error(uint32_t type, const uint8_t *msg, uint32_t len)
{
	int n = (int)(len < 200 ? len : 200);

	for (int i = 0; i < n; i++)
		if (msg[i] < 0x20 || msg[i] > 0x7e)
			n = i;
	return err_set(type == NBD_REP_ERR_UNKNOWN ? ENOENT : EPROTO,
		       "NBD handshake: the server refused the export (error %#x%s%.*s)", type,
		       n ? ": " : "", n, (const char *)msg);
}

/* One option reply; 1 on NBD_REP_ACK (the end of NBD_OPT_GO). */
static int hs_reply(struct hs *h, struct nbdkern_export *e, bool *have)
{
	uint8_t hd[20], p[HS_MAX_REPLY];
	uint32_t type, len;

	if (hs_read(h, hd, sizeof hd) < 0)
		return -1;
	type = be32_get(hd + 12);
	len = be32_get(hd + 16);
	if (be64_get(hd) != NBD_REP_MAGIC || be32_get(hd + 8) != NBD_OPT_GO)
		return err_set(EPROTO, "NBD handshake: bad option reply");
	if (hs_payload(h, len, p) < 0)
		return -1;
	if (type & (1u << 31))
		return hs_error(type, p, len < HS_MAX_REPLY ? len : HS_MAX_REPLY);
	if (type == NBD_REP_INFO && len >= 12 && be16_get(p) == NBD_INFO_EXPORT) {
		e->size = be64_get(p + 2);
		e->flags = be16_get(p + 10);
		*have = true;
	}
	if (type != NBD_REP_ACK)
		return 0;
	return *have ? 1 : err_set(EPROTO, "NBD handshake: the server did not send the size");
}

int nbdkern_handshake(int fd, const char *export, struct nbdkern_export *e, int timeout_ms)
{
	struct hs h = { .fd = fd, .deadline_ms = clock_now_ms() + timeout_ms };
	bool have = false;

	if (hs_greeting(&h) < 0 || hs_send_go(&h, export) < 0)
		return -1;
	for (int i = 0; i < HS_MAX_REPLIES; i++) {
		int r = hs_reply(&h, e, &have);

		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	return err_set(EPROTO, "NBD handshake: too many option replies");
}
