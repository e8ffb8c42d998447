/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* read: answers to READ and BLOCK_STATUS, the two commands whose reply
 * carries data.  With structured replies a READ is cut along the
 * image's allocation: ranges known to read as zeros go out as hole
 * chunks (12 bytes instead of the data), the rest as data chunks.
 * Every byte is read before the first chunk is sent, so an error can
 * still be reported as the whole reply.  Both functions leave the gate
 * before replying. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/dio.h"
#include "nbd-int.h"

#define NBD_READ_EXTENTS 16
#define NBD_READ_CHUNKS (NBD_READ_EXTENTS + 1)

struct chunk {
	uint64_t off;
	uint32_t len;
	bool hole;
};

static void add_chunk(struct chunk *ch, int *n, uint64_t off, uint64_t len, bool hole)
{
	if (*n && ch[*n - 1].hole == hole) {
		ch[*n - 1].len += (uint32_t)len;
		return;
	}
	ch[(*n)++] = (struct chunk){ .off = off, .len = (uint32_t)len, .hole = hole };
}

/* Splits the request into data and hole chunks.  Whatever block status
 * does not describe (or a block status failure) is read as data. */
static int plan(struct nbd_backend *be, const struct nbd_request *r, struct chunk *ch)
{
	struct nbd_extent ext[NBD_READ_EXTENTS];
	uint64_t pos = r->off, end = r->off + r->len;
	int n = 0, k = be->ops->block_status(be, r->off, r->len, ext, NBD_READ_EXTENTS);

	for (int i = 0; i < k && pos < end; i++) {
		uint64_t l;

		if (ext[i].off != pos || !ext[i].len)
			break;
		l = MIN(ext[i].len, end - pos);
		add_chunk(ch, &n, pos, l, ext[i].flags & NBD_STATE_ZERO);
		pos += l;
	}
	if (pos < end)
		add_chunk(ch, &n, pos, end - pos, false);
	return n;
}

static int read_chunks(struct nbd_backend *be, const struct nbd_request *r,
		       const struct chunk *ch, int n, uint8_t *buf)
{
	for (int i = 0; i < n; i++)
		if (!ch[i].hole &&
		    be->ops->pread(be, buf + (ch[i].off - r->off), ch[i].len, ch[i].off) < 0)
			return -1;
	return 0;
}

static void chunk_header(uint8_t *h, const struct nbd_request *r, uint16_t flags,
			 uint16_t type, uint32_t len)
{
	be32_put(h, NBD_STRUCTURED_REPLY_MAGIC);
	be16_put(h + 4, flags);
	be16_put(h + 6, type);
	be64_put(h + 8, r->cookie);
	be32_put(h + 16, len);
}

static int send_chunks(struct nbd_conn *c, const struct nbd_request *r,
		       const struct chunk *ch, int n, struct nbd_give *g)
{
	uint8_t *buf = g->buf;
	uint8_t hdr[NBD_READ_CHUNKS][32];
	struct iovec iov[2 * NBD_READ_CHUNKS];
	int k = 0;

	for (int i = 0; i < n; i++) {
		uint16_t done = i == n - 1 ? NBD_REPLY_FLAG_DONE : 0;

		if (ch[i].hole) {
			chunk_header(hdr[i], r, done, NBD_REPLY_TYPE_OFFSET_HOLE, 12);
			be64_put(hdr[i] + 20, ch[i].off);
			be32_put(hdr[i] + 28, ch[i].len);
			iov[k++] = (struct iovec){ .iov_base = hdr[i], .iov_len = 32 };
			continue;
		}
		chunk_header(hdr[i], r, done, NBD_REPLY_TYPE_OFFSET_DATA, 8 + ch[i].len);
		be64_put(hdr[i] + 20, ch[i].off);
		iov[k++] = (struct iovec){ .iov_base = hdr[i], .iov_len = 28 };
		iov[k++] = (struct iovec){ .iov_base = buf + (ch[i].off - r->off),
					   .iov_len = ch[i].len };
	}
	return nbd_reply_iov(c, iov, k, g);
}

static bool has_data(const struct chunk *ch, int n)
{
	for (int i = 0; i < n; i++)
		if (!ch[i].hole)
			return true;
	return false;
}

/* -1 means the engine failed (the caller logs it), never the send. */
static int fail(struct nbd_conn *c, const struct nbd_request *r)
{
	nbd_reply_error(c, r, nbd_errno_to_wire(err_errnum()));
	return -1;
}

/* The reply to a READ.  Its buffer goes with the reply if the reply
 * has to queue. */
int nbd_read_reply(struct nbd_conn *c, struct nbd_backend *be, const struct nbd_request *r)
{
	struct chunk ch[NBD_READ_CHUNKS];
	bool split = c->structured && !(r->flags & NBD_CMD_FLAG_DF);
	struct nbd_give g = { .len = r->len };
	int n = 1, rc = 0;

	ch[0] = (struct chunk){ .off = r->off, .len = r->len, .hole = false };
	if (split && r->len)
		n = plan(be, r, ch);
	if (r->len && has_data(ch, n) && !(g.buf = dio_alloc(r->len)))
		rc = err_set(ENOMEM, "no memory for a read of %u bytes", r->len);
	if (rc == 0 && r->len)
		rc = read_chunks(be, r, ch, n, g.buf);
	nbd_gate_leave(c->srv);
	if (rc < 0) {
		free(g.buf);
		return fail(c, r);
	}
	/* A reply that cannot be sent ends the connection (reply.c). */
	if (!c->structured)
		nbd_reply_data(c, r->cookie, &g);
	else if (!r->len)
		nbd_reply_chunk(c, r->cookie, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, NULL, 0);
	else
		send_chunks(c, r, ch, n, &g);
	free(g.buf);
	return 0;
}

/* Clips the extents to the request and merges equal neighbours into
 * (length, flags) descriptors; returns how many. */
static int descriptors(const struct nbd_request *r, const struct nbd_extent *ext,
		       int k, uint8_t *out)
{
	uint64_t pos = r->off, end = r->off + r->len;
	uint32_t last = UINT32_MAX;
	int n = 0;

	for (int i = 0; i < k && pos < end && ext[i].off == pos && ext[i].len; i++) {
		uint32_t l = (uint32_t)MIN(ext[i].len, end - pos);
		uint32_t f = ext[i].flags & (NBD_STATE_HOLE | NBD_STATE_ZERO);

		if (n && f == last)
			be32_put(out + 8 * (n - 1), be32_get(out + 8 * (n - 1)) + l);
		else {
			be32_put(out + 8 * n, l);
			be32_put(out + 8 * n + 4, f);
			n++;
		}
		last = f;
		pos += l;
	}
	return n;
}

int nbd_block_status_reply(struct nbd_conn *c, struct nbd_backend *be,
			   const struct nbd_request *r)
{
	int max = r->flags & NBD_CMD_FLAG_REQ_ONE ? 1 : NBD_MAX_EXTENTS;
	CLEANUP_FREE struct nbd_extent *ext = malloc(sizeof *ext * (size_t)max);
	CLEANUP_FREE uint8_t *p = malloc(4 + 8 * (size_t)max);
	struct iovec iov;
	int k = -1, n;

	if (!ext || !p)
		err_set(ENOMEM, "no memory for block status");
	else
		k = be->ops->block_status(be, r->off, r->len, ext, max);
	nbd_gate_leave(c->srv);
	if (k < 0)
		return fail(c, r);
	n = descriptors(r, ext, k, p + 4);
	if (n == 0) {
		err_set(EIO, "block status of %llu+%u described nothing",
			(unsigned long long)r->off, r->len);
		return fail(c, r);
	}
	be32_put(p, NBD_META_BASE_ID);
	iov = (struct iovec){ .iov_base = p, .iov_len = 4 + 8 * (size_t)n };
	nbd_reply_chunk(c, r->cookie, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, &iov, 1);
	return 0;
}
