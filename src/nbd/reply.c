/* reply: putting replies on a client's socket.  Workers answer out of
 * order, so each reply is written whole under the connection's write
 * lock.  A failed write leaves the stream unusable: the connection is
 * marked dead and shut down, and its reader then ends. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "nbd-int.h"

uint32_t nbd_errno_to_wire(int e)
{
	switch (e) {
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ENOTSUP:
		return NBD_ENOTSUP;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

/* Writes a whole reply; the caller's iovec array is consumed. */
static int send_locked(struct nbd_conn *c, struct iovec *iov, int n)
{
	int r = -1;

	pthread_mutex_lock(&c->wlock);
	if (!c->dead) {
		r = nbd_writev_full(c->fd, iov, n, c->srv->bounds.send_ms);
		if (r < 0) {
			c->dead = true;
			shutdown(c->fd, SHUT_RDWR);
		}
	}
	pthread_mutex_unlock(&c->wlock);
	return r;
}

int nbd_reply_simple(struct nbd_conn *c, uint64_t cookie, uint32_t err,
		     const void *data, size_t len)
{
	uint8_t h[16];
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof h },
		{ .iov_base = (void *)data, .iov_len = len },
	};

	be32_put(h, NBD_SIMPLE_REPLY_MAGIC);
	be32_put(h + 4, err);
	be64_put(h + 8, cookie);
	return send_locked(c, iov, len ? 2 : 1);
}

int nbd_reply_chunk(struct nbd_conn *c, uint64_t cookie, uint16_t flags,
		    uint16_t type, struct iovec *payload, int npayload)
{
	struct iovec iov[8];
	uint8_t h[20];
	size_t len = 0;

	if (npayload > 7)
		return -1;
	for (int i = 0; i < npayload; i++) {
		len += payload[i].iov_len;
		iov[i + 1] = payload[i];
	}
	be32_put(h, NBD_STRUCTURED_REPLY_MAGIC);
	be16_put(h + 4, flags);
	be16_put(h + 6, type);
	be64_put(h + 8, cookie);
	be32_put(h + 16, (uint32_t)len);
	iov[0] = (struct iovec){ .iov_base = h, .iov_len = sizeof h };
	return send_locked(c, iov, npayload + 1);
}

/* A structured error carries no message: the client has only the
 * errno to act on, and messages stay in our log. */
int nbd_reply_error(struct nbd_conn *c, const struct nbd_request *r, uint32_t err)
{
	uint8_t p[6];
	struct iovec iov = { .iov_base = p, .iov_len = sizeof p };

	if (!c->structured)
		return nbd_reply_simple(c, r->cookie, err, NULL, 0);
	be32_put(p, err);
	be16_put(p + 4, 0);
	return nbd_reply_chunk(c, r->cookie, NBD_REPLY_FLAG_DONE,
			       NBD_REPLY_TYPE_ERROR, &iov, 1);
}

int nbd_reply_ok(struct nbd_conn *c, const struct nbd_request *r)
{
	return nbd_reply_simple(c, r->cookie, 0, NULL, 0);
}

int nbd_reply_iov(struct nbd_conn *c, struct iovec *iov, int n)
{
	return send_locked(c, iov, n);
}
