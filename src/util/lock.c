/* lock: flock-based lock files (see lq/lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/lock.h"

static int lock_open(const char *path, bool create)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);

	if (fd < 0)
		return err_sys("lock file %s: %m", path);
	return fd;
}

int lock_acquire(const char *path, bool exclusive, bool create)
{
	int fd = lock_open(path, create);

	if (fd < 0)
		return -1;
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		err_sys("flock %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

int lock_try(const char *path, bool exclusive, bool create)
{
	int fd = lock_open(path, create);

	if (fd < 0)
		return -1;
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		if (e != EWOULDBLOCK)
			return err_sys("flock %s: %m", path);
		return -1;
	}
	return fd;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor drops the flock */
}
