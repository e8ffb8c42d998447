/* fault: crash points for fault injection (see lq/fault.h). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/fault.h"
#include "lq/log.h"

void fault_point(const char *name)
{
	const char *want = getenv("LVQCOW_FAULT");

	if (!want || strcmp(want, name))
		return;
	log_warn("fault injection: killed at %s", name);
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}
