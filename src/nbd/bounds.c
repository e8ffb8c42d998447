/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bounds: every limit on time and memory the server and the control
 * client enforce, with its default and the environment variable that
 * overrides it (docs/datapath.md lists them).  Values that do not
 * parse, or fall outside [min, max], keep the default: a typo must not
 * lift a bound. */
#include <stdlib.h>

#include "nbd-int.h"

static double tunable(const char *name, double def, double min, double max)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	v = strtod(s, &end);
	return *end || v < min || v > max ? def : v;
}

static int seconds_ms(const char *name, double def)
{
	return (int)(tunable(name, def, 0.05, 3600) * 1000);
}

void nbd_bounds_load(struct nbd_bounds *b)
{
	b->handshake_ms = seconds_ms("LVQCOW_NBD_HANDSHAKE_TIMEOUT", 10);
	b->send_ms = seconds_ms("LVQCOW_NBD_SEND_TIMEOUT", 30);
	b->control_idle_ms = seconds_ms("LVQCOW_CONTROL_IDLE_TIMEOUT", 10);
	b->pause_limit_ms = seconds_ms("LVQCOW_NBD_PAUSE_LIMIT", 20);
	b->max_bytes = (uint64_t)tunable("LVQCOW_NBD_MAX_MEMORY_MIB", 512, 64, 65536) << 20;
	b->log_max = (uint64_t)tunable("LVQCOW_NBD_LOG_MAX_KIB", 1024, 16, 1 << 20) << 10;
}

int nbd_control_timeout_ms(void)
{
	return seconds_ms("LVQCOW_CONTROL_TIMEOUT", 30);
}

int nbd_stop_timeout_ms(void)
{
	return seconds_ms("LVQCOW_NBD_STOP_TIMEOUT", 90);
}

/* Setup may spend a control timeout on each of its two stale sockets. */
int nbd_start_timeout_ms(void)
{
	return seconds_ms("LVQCOW_NBD_START_TIMEOUT", 90);
}
