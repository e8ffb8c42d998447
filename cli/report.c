/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report: how the admin commands print the error the library recorded. */
#include <stdio.h>

#include "cli.h"
#include "lq/err.h"

void cli_report_error(const char *cmd)
{
	const struct err_record *e = err_last();

	fprintf(stderr, "lvqcow %s: %s%s%s\n", cmd, e->code, e->code[0] ? ": " : "", e->msg);
}
