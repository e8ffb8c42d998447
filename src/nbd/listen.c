/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* listen: the UNIX sockets the server listens on, and its pid file.
 * Sockets are created mode 0600: only root may reach a volume's data.
 * A socket path still answering belongs to a live server and is never
 * taken over; a dead one is replaced. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lq/err.h"
#include "nbd-int.h"

static int fill_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a->sun_path)
		return err_set(ENAMETOOLONG, "%s: socket path too long (max %zu)",
			       path, sizeof a->sun_path - 1);
	memcpy(a->sun_path, path, strlen(path));
	return 0;
}

/* A UNIX connect blocks while the listener's backlog is full (a
 * stopped server); SO_SNDTIMEO bounds it. */
static void set_send_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };

	if (timeout_ms >= 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int nbd_unix_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un a;
	int fd;

	if (fill_addr(path, &a) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys("socket: %m");
	set_send_timeout(fd, timeout_ms);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		if (errno == EAGAIN || errno == EINPROGRESS)
			errno = ETIMEDOUT;
		err_sys("%s: connect: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The kernel records the listener's credentials at listen() and hands
 * them to every connecting peer, even while the listener is stopped:
 * whoever listens on the volume's control socket is its server. */
pid_t nbd_server_pid(const char *ctl)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof cred;
	int fd = nbd_unix_connect(ctl, nbd_control_timeout_ms());

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.pid = 0;
	close(fd);
	return cred.pid > 1 ? cred.pid : 0;
}

static int clear_stale(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_sys("%s: %m", path);
	if (!S_ISSOCK(st.st_mode))
		return err_set(EEXIST, "%s exists and is not a socket", path);
	fd = nbd_unix_connect(path, nbd_control_timeout_ms());
	if (fd >= 0) {
		close(fd);
		return err_set(EADDRINUSE, "%s: a server is already listening", path);
	}
	if (unlink(path) < 0)
		return err_sys("%s: unlink: %m", path);
	return 0;
}

static int bind_private(int fd, const char *path, const struct sockaddr_un *a)
{
	mode_t old = umask(0177);
	int r = bind(fd, (const struct sockaddr *)a, sizeof *a);

	umask(old);
	if (r < 0)
		return err_sys("%s: bind: %m", path);
	if (chmod(path, 0600) < 0)
		return err_sys("%s: chmod: %m", path);
	return 0;
}

int nbd_listen(const char *path)
{
	struct sockaddr_un a;
	int fd;

	if (fill_addr(path, &a) < 0 || clear_stale(path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys("socket: %m");
	if (bind_private(fd, path, &a) < 0 || listen(fd, 128) < 0) {
		if (errno)
			err_sys("%s: listen: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Written to a temporary name and renamed: a reader never sees a
 * partial pid. */
int nbd_write_pidfile(const char *path)
{
	char tmp[4096], line[32];
	int fd, n = snprintf(line, sizeof line, "%d\n", (int)getpid());

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return err_set(ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys("%s: %m", tmp);
	if (write(fd, line, (size_t)n) != n || close(fd) < 0) {
		unlink(tmp);
		return err_sys("%s: write: %m", tmp);
	}
	if (rename(tmp, path) < 0)
		return err_sys("%s: rename: %m", path);
	return 0;
}
