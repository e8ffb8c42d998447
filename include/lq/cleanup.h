/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleanup: scope-bound release of memory, descriptors and locks.
 *
 * A function either uses these attributes for everything it owns, or a
 * single unwind label; never both in one function.
 */
#ifndef LQ_CLEANUP_H
#define LQ_CLEANUP_H

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>

static inline void cleanup_free(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_close(const int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void cleanup_fclose(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_closedir(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define CLEANUP_FREE __attribute__((cleanup(cleanup_free)))
#define CLEANUP_CLOSE __attribute__((cleanup(cleanup_close)))
#define CLEANUP_FCLOSE __attribute__((cleanup(cleanup_fclose)))
#define CLEANUP_CLOSEDIR __attribute__((cleanup(cleanup_closedir)))

#endif
