/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wire: decoding of the bytes a client sends — request headers and the
 * payloads of the options we understand.  Everything here works on byte
 * buffers and has no I/O, so the fuzzer drives exactly the code that
 * faces clients.  Every length is checked against the buffer before use. */
#include <string.h>

#include "nbd-int.h"

int nbd_parse_request(const uint8_t *buf, size_t len, struct nbd_request *r)
{
	if (len < NBD_REQUEST_SIZE || be32_get(buf) != NBD_REQUEST_MAGIC)
		return -1;
	r->flags = be16_get(buf + 4);
	r->type = be16_get(buf + 6);
	r->cookie = be64_get(buf + 8);
	r->off = be64_get(buf + 16);
	r->len = be32_get(buf + 24);
	return 0;
}

/* Flags each command accepts; FUA is accepted everywhere as the
 * protocol asks once it is advertised. */
static uint16_t allowed_flags(uint16_t type)
{
	switch (type) {
	case NBD_CMD_READ:
		return NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_DF;
	case NBD_CMD_WRITE_ZEROES:
		return NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO;
	case NBD_CMD_BLOCK_STATUS:
		return NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_REQ_ONE;
	default:
		return NBD_CMD_FLAG_FUA;
	}
}

static bool is_write_kind(uint16_t type)
{
	return type == NBD_CMD_WRITE || type == NBD_CMD_TRIM || type == NBD_CMD_WRITE_ZEROES;
}

static int check_range(const struct nbd_request *r, const struct nbd_limits *lim)
{
	uint64_t end;

	if (ADD_OVERFLOW(r->off, (uint64_t)r->len, &end) || end > lim->size)
		return r->type == NBD_CMD_WRITE || r->type == NBD_CMD_WRITE_ZEROES
			? NBD_ENOSPC : NBD_EINVAL;
	return 0;
}

static int check_type(const struct nbd_request *r, const struct nbd_limits *lim)
{
	switch (r->type) {
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
		return r->len > lim->max_payload ? NBD_EOVERFLOW : 0;
	case NBD_CMD_FLUSH:
		return r->off || r->len ? NBD_EINVAL : 0;
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
		return 0;
	case NBD_CMD_BLOCK_STATUS:
		return lim->meta_base && r->len ? 0 : NBD_EINVAL;
	default:
		return NBD_EINVAL;
	}
}

int nbd_check_request(const struct nbd_request *r, const struct nbd_limits *lim)
{
	int e;

	if (r->flags & ~allowed_flags(r->type))
		return NBD_EINVAL;
	if ((r->flags & NBD_CMD_FLAG_DF) && !lim->structured)
		return NBD_EINVAL;
	if ((e = check_type(r, lim)))
		return e;
	if (lim->readonly && is_write_kind(r->type))
		return NBD_EPERM;
	return check_range(r, lim);
}

/* A protocol string: no NUL, at most NBD_MAX_STRING bytes. */
static bool valid_string(const uint8_t *s, uint32_t len)
{
	return len <= NBD_MAX_STRING && !memchr(s, 0, len);
}

/* Reads a 32-bit length and that many string bytes at *pos. */
static int take_string(const uint8_t *d, size_t n, size_t *pos,
		       const uint8_t **s, uint32_t *slen)
{
	if (n - *pos < 4)
		return -1;
	*slen = be32_get(d + *pos);
	*pos += 4;
	if (*slen > n - *pos || !valid_string(d + *pos, *slen))
		return -1;
	*s = d + *pos;
	*pos += *slen;
	return 0;
}

int nbd_parse_info_opt(const uint8_t *d, size_t n, struct nbd_info_opt *o)
{
	size_t pos = 0;

	memset(o, 0, sizeof *o);
	if (take_string(d, n, &pos, &o->name, &o->name_len) < 0 || n - pos < 2)
		return -1;
	o->ninfo = be16_get(d + pos);
	pos += 2;
	if ((size_t)o->ninfo * 2 != n - pos)
		return -1;
	for (uint16_t i = 0; i < o->ninfo; i++)
		if (be16_get(d + pos + 2 * i) == NBD_INFO_BLOCK_SIZE)
			o->wants_block_size = true;
	return 0;
}

/* base:allocation is our only context.  A LIST query of "base:" asks
 * for every context of the namespace. */
static bool query_matches(const uint8_t *q, uint32_t len, bool list)
{
	static const char ctx[] = NBD_META_BASE_ALLOCATION;

	if (len == sizeof ctx - 1 && !memcmp(q, ctx, len))
		return true;
	return list && len == 5 && !memcmp(q, "base:", 5);
}

int nbd_parse_meta_opt(const uint8_t *d, size_t n, bool list, struct nbd_meta_opt *o)
{
	size_t pos = 0;
	uint32_t nq;

	memset(o, 0, sizeof *o);
	if (take_string(d, n, &pos, &o->name, &o->name_len) < 0 || n - pos < 4)
		return -1;
	nq = be32_get(d + pos);
	pos += 4;
	o->base_allocation = list && nq == 0;
	for (uint32_t i = 0; i < nq; i++) {
		const uint8_t *q;
		uint32_t qlen;

		if (take_string(d, n, &pos, &q, &qlen) < 0)
			return -1;
		if (query_matches(q, qlen, list))
			o->base_allocation = true;
	}
	return pos == n ? 0 : -1;
}

bool nbd_export_name_valid(const uint8_t *name, size_t len)
{
	return valid_string(name, (uint32_t)MIN(len, (size_t)NBD_MAX_STRING + 1));
}
