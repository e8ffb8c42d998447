/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control-client: the client side of the control line protocol, for
 * the datapath and the admin CLI.  Every step is bounded by one
 * deadline (LVQCOW_CONTROL_TIMEOUT): the caller may hold the SR lock,
 * and a stopped or wedged server must not hold it with them. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lq/err.h"
#include "nbd-int.h"

static int send_cmd(int fd, const char *cmd, int timeout_ms)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)cmd, .iov_len = strlen(cmd) },
		{ .iov_base = "\n", .iov_len = 1 },
	};

	return nbd_writev_full(fd, iov, 2, timeout_ms);
}

int nbd_control_call(const char *path, const char *cmd, char *reply, size_t n)
{
	int timeout_ms = nbd_control_timeout_ms();
	int fd, r;

	if (n)
		reply[0] = '\0';
	if (strchr(cmd, '\n'))
		return err_set(EINVAL, "control command contains a newline");
	if ((fd = nbd_unix_connect(path, timeout_ms)) < 0)
		return -1;
	if (send_cmd(fd, cmd, timeout_ms) < 0) {
		r = errno;
		close(fd);
		return err_set(r == ETIMEDOUT ? ETIMEDOUT : EIO, "%s: cannot send '%s'", path, cmd);
	}
	r = nbd_read_line(fd, reply, n, timeout_ms);
	if (r < 0 && n)
		reply[0] = '\0';
	r = r < 0 ? (errno == ETIMEDOUT ? ETIMEDOUT : EIO) : 0;
	close(fd);
	if (r)
		return err_set(r, "%s: %s to '%s'", path,
			       r == ETIMEDOUT ? "no reply in time" : "no reply", cmd);
	if (strncmp(reply, "ok", 2))
		return err_set(EIO, "%s: %s: %s", path, cmd, reply);
	return 0;
}
