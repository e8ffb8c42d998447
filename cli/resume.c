/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resume: "lvqcow resume", ends a pause nobody else will.  A volume's
 * server runs it when a call that paused it died before resuming it;
 * an operator may run it too.  It is safe at any time: under the SR lock
 * no call is between its pause and its resume. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "lq/datapath.h"
#include "lq/err.h"
#include "lq/store.h"

static int resume_usage(FILE *f)
{
	fprintf(f, "usage: lvqcow resume [--type TYPE] SR VOLUME\n"
		   "Moves a paused NBD server of VOLUME onto the chain the SR's metadata\n"
		   "names and resumes it; does nothing when the server is not paused.\n"
		   "SR is the SR string SR.attach returned; VOLUME is the volume key.\n"
		   "TYPE (fileqcow or lvqcow) is found from the SR string when not given.\n");
	return f == stdout ? 0 : 1;
}

int cli_resume(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *type = NULL;
	bool resumed;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			type = optarg;
		else
			return resume_usage(c == 'h' ? stdout : stderr);
	}
	if (optind != argc - 2)
		return resume_usage(stderr);
	if (!type)
		type = store_type_of_root(argv[optind]);
	if (ops_datapath_rescue(type, argv[optind], argv[optind + 1], &resumed) < 0) {
		cli_report_error("resume");
		return 1;
	}
	printf("volume %s: %s\n", argv[optind + 1],
	       resumed ? "server moved onto its chain and resumed" : "not paused");
	return 0;
}
