/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io: whole-buffer reads and writes on a client socket, retrying short
 * transfers and EINTR.  Writes never block without bound: they are
 * non-blocking sends with a poll deadline, so a peer that stops reading
 * costs a writer at most that deadline.  MSG_NOSIGNAL makes a vanished
 * peer an error return, never SIGPIPE. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nbd-int.h"

int64_t nbd_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
}

int nbd_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline < 0 ? -1 : MAX(deadline - clock_now_ms(), (int64_t)0);
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);

		if (r > 0)
			return 0;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

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

int nbd_writev_full(int fd, struct iovec *iov, int iovcnt, int timeout_ms)
{
	int64_t deadline = nbd_deadline(timeout_ms);

	while (iovcnt) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (nbd_wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
			continue;
		}
		if (r < 0)
			return -1;
		iov_advance(&iov, &iovcnt, (size_t)r);
	}
	return 0;
}

int nbd_write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return nbd_writev_full(fd, &iov, 1, timeout_ms);
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

/* One reader for both ends of the control channel: a line is refused
 * (-1) on EOF, error, deadline, a NUL byte or more than n - 1 bytes. */
int nbd_read_line(int fd, char *buf, size_t n, int timeout_ms)
{
	int64_t deadline = nbd_deadline(timeout_ms);
	size_t len = 0;

	while (len + 1 < n) {
		ssize_t r;
		if (nbd_wait_fd(fd, POLLIN, deadline) < 0)
			return -1;
		r = read(fd, buf + len, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0 || buf[len] == '\0')
			return -1;
		if (buf[len] == '\n') {
			if (len && buf[len - 1] == '\r')
				len--;
			buf[len] = '\0';
			return 0;
		}
		len++;
	}
	return -1;
}
