/* lock: advisory whole-file locks (flock) on lock files.
 *
 * flock locks belong to the open file description, so they are released
 * when the process dies, however it dies: a crashed call never leaves an
 * SR locked.  Lock files are never removed while an SR lives, so every
 * process locks the same inode. */
#ifndef LQ_LOCK_H
#define LQ_LOCK_H

#include <stdbool.h>

/* Open (with create: creating it, mode 0600) and lock path; returns the
 * descriptor holding the lock, or -1.  Blocks until the lock is granted. */
int lock_acquire(const char *path, bool exclusive, bool create);
/* Same but fails with EWOULDBLOCK instead of waiting; the error record is
 * left untouched in that case so callers can treat it as "busy". */
int lock_try(const char *path, bool exclusive, bool create);
/* Release and close; fd < 0 is ignored. */
void lock_release(int fd);

#endif
