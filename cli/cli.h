/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli: the admin commands of the lvqcow binary. */
#ifndef LQ_CLI_H
#define LQ_CLI_H

struct cli_command {
	const char *name;
	const char *help;
	int (*run)(int argc, char **argv);
};

/* report.c: "lvqcow CMD: [CODE: ]message" on stderr for the last error
 * (the code is the xapi error, whose message may be only its parameter). */
void cli_report_error(const char *cmd);

int cli_img(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_gc(int argc, char **argv);
int cli_resume(int argc, char **argv);
/* lvm.c: lvqcow lvm */
int cli_lvm(int argc, char **argv);
/* calls.c: lvqcow list-calls */
int cli_list_calls(int argc, char **argv);

/* img-ops.c: lvqcow img check | measure | commit */
int cli_img_check(int argc, char **argv);
int cli_img_measure(int argc, char **argv);
int cli_img_commit(int argc, char **argv);
/* img-coalesce.c: lvqcow img coalesce */
int cli_img_coalesce(int argc, char **argv);

#endif
