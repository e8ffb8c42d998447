/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* watch: a pause that nobody ends.  A call that pauses the server to
 * change its chain resumes it within milliseconds; a call killed in
 * between, or one whose move failed, leaves every request waiting at
 * the gate.  Once a pause outlasts its limit the server runs its rescue
 * command, which moves it onto the chain the metadata names and resumes
 * it.  The server never resumes itself: the chain it holds may by then
 * belong to a snapshot.  A rescue that fails is tried again one limit
 * later. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "lq/clock.h"
#include "lq/log.h"
#include "nbd-int.h"

extern char **environ;

static void reap_rescuer(struct nbd_server *s)
{
	int status;

	if (s->rescuer <= 0 || waitpid(s->rescuer, &status, WNOHANG) != s->rescuer)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("pause rescue (pid %d) finished", (int)s->rescuer);
	else
		log_warn("pause rescue (pid %d) failed (status %#x); retried later",
			 (int)s->rescuer, (unsigned)status);
	s->rescuer = 0;
}

/* The child gets default signal handling (the server blocks and
 * ignores some), no stdin, and the server's log as stdout and stderr. */
static pid_t spawn_rescuer(char *const *argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid = -1;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if ((errno = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ)) != 0)
		pid = -1;
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Paused past the limit: true, and the clock of the pause restarts so
 * the next attempt waits a whole limit again. */
static bool pause_overdue(struct nbd_server *s)
{
	int64_t now = clock_now_ms();
	bool overdue;

	pthread_mutex_lock(&s->lock);
	overdue = s->paused && !s->stopping && now - s->paused_at >= s->bounds.pause_limit_ms;
	if (overdue)
		s->paused_at = now;
	pthread_mutex_unlock(&s->lock);
	return overdue;
}

void nbd_pause_watch(struct nbd_server *s)
{
	reap_rescuer(s);
	if (!s->opts.on_stuck || s->rescuer > 0 || !pause_overdue(s))
		return;
	log_warn("paused for over %d ms with nobody to resume it: running the rescue",
		 s->bounds.pause_limit_ms);
	s->rescuer = spawn_rescuer(s->opts.on_stuck);
	if (s->rescuer < 0) {
		log_error("pause rescue: cannot start %s: %m", s->opts.on_stuck[0]);
		s->rescuer = 0;
	}
}
