/* io: whole-buffer reads and writes on a client socket, retrying short
 * transfers and EINTR.  Replies use MSG_NOSIGNAL so a vanished client
 * is an error return, never SIGPIPE. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nbd-int.h"

int nbd_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = p == buf ? 0 : ECONNRESET;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Advances the iovec array past n bytes already sent. */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

int nbd_writev_full(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		iov_advance(&iov, &iovcnt, (size_t)r);
	}
	return 0;
}

int nbd_write_full(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return nbd_writev_full(fd, &iov, 1);
}

int nbd_skip(int fd, uint64_t len)
{
	uint8_t scratch[16384];

	while (len) {
		size_t n = (size_t)MIN(len, (uint64_t)sizeof scratch);
		if (nbd_read_full(fd, scratch, n) < 0)
			return -1;
		len -= n;
	}
	return 0;
}
