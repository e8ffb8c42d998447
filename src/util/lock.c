/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock: bounded flock waits (see lq/lock.h).
 *
 * Writers are not starved by readers.  flock grants a shared lock
 * whenever no exclusive one is held, so readers that overlap one another
 * would keep a waiting writer out until its time runs out.  A waiting
 * writer therefore announces itself with an OFD read lock on byte 0 of
 * the same file (an announcement, not a lock of the data: flock and
 * record locks do not interact), and a reader that sees one waits for
 * that writer before it takes its shared lock.  Read locks need only a
 * read-only descriptor, and OFD locks go with the descriptor when the
 * process dies, like the flock. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>

#include "lq/clock.h"
#include "lq/err.h"
#include "lq/lock.h"

/* Backoff between tries: from 1 ms up to this, so a lock freed soon is
 * taken soon, and a long wait costs a few wake-ups a second. */
#define LOCK_MAX_DELAY_MS 50

static void lock_sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int announce(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Does a writer wait for this lock?  On any doubt, no: the reader then
 * competes as flock alone would have it. */
static bool writer_waits(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

static int try_lock(int fd, bool exclusive)
{
	if (!exclusive && writer_waits(fd)) {
		errno = EWOULDBLOCK;
		return -1;
	}
	return flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
}

static int poll_lock(int fd, bool exclusive, long long budget_ms, const char *what)
{
	int64_t deadline = clock_now_ms() + budget_ms, left, delay = 1;

	while (try_lock(fd, exclusive) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return err_sys("flock for %s: %m", what);
		left = deadline - clock_now_ms();
		if (left <= 0)
			return err_set(ETIMEDOUT, "%s is busy: its lock was not granted within %lld ms",
				       what, budget_ms);
		lock_sleep_ms(delay < left ? delay : left);
		delay = delay * 2 > LOCK_MAX_DELAY_MS ? LOCK_MAX_DELAY_MS : delay * 2;
	}
	return 0;
}

int lock_wait(int fd, bool exclusive, long long budget_ms, const char *what)
{
	bool announced = exclusive && announce(fd, F_RDLCK) == 0;
	int rc = poll_lock(fd, exclusive, budget_ms, what);

	if (announced)
		announce(fd, F_UNLCK);
	return rc;
}
