/* control-client: the client side of the control line protocol, for
 * the datapath and the admin CLI. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lq/err.h"
#include "nbd-int.h"

static int read_reply(int fd, char *reply, size_t n)
{
	size_t len = 0;

	while (len + 1 < n) {
		ssize_t r = read(fd, reply + len, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (reply[len] == '\n')
			break;
		len++;
	}
	reply[len] = '\0';
	return len ? 0 : -1;
}

int nbd_control_call(const char *path, const char *cmd, char *reply, size_t n)
{
	int fd = nbd_unix_connect(path);
	int r;

	if (n)
		reply[0] = '\0';
	if (fd < 0)
		return -1;
	if (strchr(cmd, '\n') || nbd_write_full(fd, cmd, strlen(cmd)) < 0 ||
	    nbd_write_full(fd, "\n", 1) < 0) {
		close(fd);
		return err_set(EIO, "%s: cannot send '%s'", path, cmd);
	}
	r = read_reply(fd, reply, n);
	close(fd);
	if (r < 0)
		return err_set(EIO, "%s: no reply to '%s'", path, cmd);
	if (strncmp(reply, "ok", 2))
		return err_set(EIO, "%s: %s: %s", path, cmd, reply);
	return 0;
}
