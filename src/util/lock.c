/* lock: bounded flock waits (see lq/lock.h). */
#include <errno.h>
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

int lock_wait(int fd, bool exclusive, long long budget_ms, const char *what)
{
	int64_t deadline = clock_now_ms() + budget_ms, left, delay = 1;

	while (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
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
