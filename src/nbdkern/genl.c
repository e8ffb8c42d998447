/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkern-genl: a minimal generic-netlink client — build a request in
 * a fixed buffer, send it, and wait (bounded) for its reply and ack.
 * Replies are checked like any foreign input before their attributes
 * are read. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lq/clock.h"
#include "lq/err.h"
#include "nbdkern-int.h"

#define NK_ALIGN(n) (((n) + 3u) & ~(size_t)3u)
#define NK_RECV_MAX 16384

void nk_msg_init(struct nk_msg *m, uint16_t family, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);

	memset(m, 0, sizeof *m);
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

void nk_put(struct nk_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);

	if (m->len + NK_ALIGN(NLA_HDRLEN + len) > sizeof m->buf || len > UINT16_MAX - NLA_HDRLEN) {
		m->overflow = 1;
		return;
	}
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy(m->buf + m->len + NLA_HDRLEN, data, len);
	m->len += NK_ALIGN(NLA_HDRLEN + len);
}

void nk_put_u32(struct nk_msg *m, uint16_t type, uint32_t v)
{
	nk_put(m, type, &v, sizeof v);
}

void nk_put_u64(struct nk_msg *m, uint16_t type, uint64_t v)
{
	nk_put(m, type, &v, sizeof v);
}

void nk_put_str(struct nk_msg *m, uint16_t type, const char *s)
{
	nk_put(m, type, s, strlen(s) + 1);
}

size_t nk_nest_start(struct nk_msg *m, uint16_t type)
{
	size_t at = m->len;

	nk_put(m, type | NLA_F_NESTED, NULL, 0);
	return at;
}

void nk_nest_end(struct nk_msg *m, size_t at)
{
	struct nlattr *a = (struct nlattr *)(m->buf + at);

	if (!m->overflow)
		a->nla_len = (uint16_t)(m->len - at);
}

struct nk_attr nk_find(const uint8_t *p, size_t len, uint16_t type)
{
	struct nk_attr none = { 0 };

	for (size_t off = 0; off + NLA_HDRLEN <= len;) {
		struct nlattr a;

		memcpy(&a, p + off, sizeof a);
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len - off)
			return none;
		if ((a.nla_type & NLA_TYPE_MASK) == type)
			return (struct nk_attr){ p + off + NLA_HDRLEN, a.nla_len - NLA_HDRLEN };
		off += NK_ALIGN(a.nla_len);
	}
	return none;
}

int nk_u32(struct nk_attr a, uint32_t *v)
{
	if (a.len != sizeof *v)
		return -1;
	memcpy(v, a.data, sizeof *v);
	return 0;
}

int nk_open(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	return s >= 0 ? s : err_sys("netlink socket: %m");
}

static int nk_send(int sock, struct nk_msg *m, uint32_t seq)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;

	if (m->overflow)
		return err_set(EMSGSIZE, "netlink request too large");
	h->nlmsg_len = (uint32_t)m->len;
	h->nlmsg_seq = seq;
	if (sendto(sock, m->buf, m->len, 0, (struct sockaddr *)&k, sizeof k) < 0)
		return err_sys("netlink send: %m");
	return 0;
}

static ssize_t nk_recv(int sock, uint8_t *buf, size_t n, int64_t deadline)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int64_t left = deadline - clock_now_ms();
	ssize_t r;

	if (left <= 0 || poll(&p, 1, (int)left) <= 0)
		return err_set(ETIMEDOUT, "the kernel's netlink reply did not come in time");
	if ((r = recv(sock, buf, n, 0)) < 0)
		return err_sys("netlink recv: %m");
	return r;
}

/* One netlink message of ours: 1 at the ack, 0 for a data reply (kept),
 * -1 on an error ack. */
static int nk_one(const struct nlmsghdr *h, uint8_t *reply, size_t *rlen)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);

	if (h->nlmsg_type == NLMSG_ERROR) {
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
			return err_set(EPROTO, "short netlink error message");
		if (e->error) {
			errno = -e->error;
			return err_set(-e->error, "netlink: %m");
		}
		return 1;
	}
	if (h->nlmsg_type == NLMSG_DONE)
		return 1;
	if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN || !reply ||
	    h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN > NK_RECV_MAX)
		return 0;
	*rlen = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	memcpy(reply, (const uint8_t *)h + NLMSG_HDRLEN + GENL_HDRLEN, *rlen);
	return 0;
}

/* Walks a datagram; 1 once our ack is seen. */
static int nk_walk(const uint8_t *buf, size_t n, uint32_t seq, uint8_t *reply, size_t *rlen)
{
	for (size_t off = 0; off + NLMSG_HDRLEN <= n;) {
		struct nlmsghdr h;
		int r = 0;

		memcpy(&h, buf + off, sizeof h);
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > n - off)
			return err_set(EPROTO, "malformed netlink reply");
		if (h.nlmsg_seq == seq)
			r = nk_one((const struct nlmsghdr *)(buf + off), reply, rlen);
		if (r != 0)
			return r;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}

/* reply holds NK_RECV_MAX bytes when given. */
int nk_call(int sock, struct nk_msg *m, uint8_t *reply, size_t *rlen, int timeout_ms)
{
	static uint32_t seq_next;
	uint8_t buf[NK_RECV_MAX + NLMSG_HDRLEN + GENL_HDRLEN] __attribute__((aligned(4)));
	uint32_t seq = ++seq_next + (uint32_t)getpid() * 65536u;
	int64_t deadline = clock_now_ms() + timeout_ms;
	int r = 0;

	if (rlen)
		*rlen = 0;
	if (nk_send(sock, m, seq) < 0)
		return -1;
	while (r == 0) {
		ssize_t n = nk_recv(sock, buf, sizeof buf, deadline);

		if (n < 0)
			return -1;
		r = nk_walk(buf, (size_t)n, seq, reply, rlen);
	}
	return r < 0 ? -1 : 0;
}

int nk_family(int sock, const char *name, uint16_t *id, int timeout_ms)
{
	uint8_t reply[NK_RECV_MAX];
	struct nk_msg m;
	size_t rlen;
	struct nk_attr a;

	nk_msg_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	nk_put_str(&m, CTRL_ATTR_FAMILY_NAME, name);
	if (nk_call(sock, &m, reply, &rlen, timeout_ms) < 0)
		return -1;
	a = nk_find(reply, rlen, CTRL_ATTR_FAMILY_ID);
	if (a.len != sizeof *id)
		return err_set(EPROTO, "netlink: no id for family %s", name);
	memcpy(id, a.data, sizeof *id);
	return 0;
}
