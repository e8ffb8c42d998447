/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc: a process named so that its pid cannot be mistaken for another
 * one's: the pid with its start time (field 22 of /proc/<pid>/stat, in
 * clock ticks since boot), which a reused pid does not share. */
#ifndef LQ_PROC_H
#define LQ_PROC_H

#include <sys/types.h>

int proc_start_time(pid_t pid, unsigned long long *start);
/* A pidfd on the process pid that started at start, or -1 when that
 * process is gone (a pidfd outlives a pid: it never names another). */
int proc_watch(pid_t pid, unsigned long long start);

#endif
