/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc: processes by pid and start time (see lq/proc.h). */
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "lq/proc.h"

/* Field 22, counted after the command's ')': the command may hold
 * spaces and parentheses. */
int proc_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')))
		return -1;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p && sscanf(p + 1, "%llu", start) == 1 ? 0 : -1;
}

/* The start time is read while the pidfd holds the process: if it
 * matches then, the pidfd names that process for good. */
int proc_watch(pid_t pid, unsigned long long start)
{
	unsigned long long now;
	int pfd = pid > 0 ? pidfd_open(pid, 0) : -1;

	if (pfd >= 0 && (proc_start_time(pid, &now) < 0 || now != start)) {
		close(pfd);
		pfd = -1;
	}
	return pfd;
}
