/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock: bounded waits for advisory whole-file locks (flock).
 *
 * flock locks belong to the open file description, so they are released
 * when the process dies, however it dies: a crashed call never leaves a
 * lock held.  The caller opens the lock file (read-only is enough, so
 * readers work on a read-only filesystem) and closes it to release.
 * xapi-storage-script waits for a call forever, so no wait here is
 * unbounded. */
#ifndef LQ_LOCK_H
#define LQ_LOCK_H

#include <stdbool.h>

/* Take the lock on fd, shared or exclusive, polling with backoff for at
 * most budget_ms.  On expiry fails with ETIMEDOUT and a message saying
 * that what ("SR /path", say) is busy. */
int lock_wait(int fd, bool exclusive, long long budget_ms, const char *what);

#endif
