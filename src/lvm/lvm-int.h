/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm internals: command lines, the call into liblvm2cmd with its
 * captured output, report parsing and failure classification.  The
 * parsing and classification functions are pure (unit-tested without
 * LVM). */
#ifndef LQ_LVM_INT_H
#define LQ_LVM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lq/lvm.h"

/* lvm2_run splits its line into at most 63 words. */
#define LVM_ARGS_MAX 63
#define LVM_ARENA 6144   /* LVM_BATCH_MAX full-length vg/lv words */
/* The log callback formats each message into 4096 bytes: a message this
 * long may have been cut. */
#define LVM_LINE_CUT 4095

/* A command as words; every word is a checked token (cmd.c). */
struct lvm_cmd {
	const char *argv[LVM_ARGS_MAX];
	int argc;
	char arena[LVM_ARENA];
	size_t used;
};

void lvm_cmd_init(struct lvm_cmd *c, const char *verb);
/* Add one word, formatted; asserts it is a safe token (no blank, quote
 * or control character, no leading '#'). */
void lvm_cmd_addf(struct lvm_cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add one word that LVM must see whole although it holds blanks (a
 * --config value): quoted; asserts it holds no quote character. */
void lvm_cmd_add_quoted(struct lvm_cmd *c, const char *word);
/* The line lvm2_run parses; -1 if it does not fit. */
int lvm_cmd_line(const struct lvm_cmd *c, char *buf, size_t n);
/* Is word safe as an unquoted token? */
bool lvm_token_ok(const char *word);

/* What one command printed: report lines (the report code's level-4
 * messages), other printed lines, and error lines. */
struct lvm_output {
	char *report;
	size_t report_len;
	char *info;
	size_t info_len;
	char *err;
	size_t err_len;
	bool cut;           /* a report line reached LVM_LINE_CUT bytes */
};

/* Run c in process.  0 on success (out holds what it printed, freed by
 * lvm_output_free); -1 with the failure classified and recorded, and out
 * empty. */
int lvm_run(const struct lvm_cmd *c, struct lvm_output *out);
void lvm_output_free(struct lvm_output *o);

/* Classify a failure from lvm2_run's return code and error text. */
enum lvm_class lvm_classify(int rc, const char *err);
/* Record the failure of command `what` (err_xapi / err_set); returns -1. */
int lvm_fail(enum lvm_class c, const char *what, const char *err);
void lvm_set_last_class(enum lvm_class c);

/* Reports (report.c): text is the report lines joined by '\n'. */
int lvm_report_lvs(const char *text, bool cut, const char *vg, struct lvm_lv_list *out);
int lvm_report_vg(const char *text, bool cut, struct lvm_vg *out);
/* Exactly one row. */
int lvm_report_pv(const char *text, bool cut, struct lvm_pv *out);

#endif
