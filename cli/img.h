/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img.h: helpers shared by the `lvqcow img` subcommand files. */
#ifndef LQ_CLI_IMG_H
#define LQ_CLI_IMG_H

#include <stdbool.h>
#include <stdint.h>

struct qcow2_image;

/* Print "lvqcow img CMD: <last recorded error>" and return 1. */
int img_fail(const char *cmd);
/* Print "lvqcow img CMD: msg" and return 1 (usage errors: 2). */
int img_usage(const char *cmd, const char *msg);
/* Bytes with an optional K/M/G/T/P/E suffix (powers of 1024). */
int img_parse_size(const char *s, uint64_t *out);
/* Open for the command; prints the error and returns NULL on failure. */
struct qcow2_image *img_open(const char *cmd, const char *path, int flags);
/* Close; a failed final flush is an error of the command. */
int img_close(const char *cmd, struct qcow2_image *img, int rc);

/* img-query.c */
int img_info(int argc, char **argv);
int img_map(int argc, char **argv);
int img_allocated(int argc, char **argv);
int img_bitmap(int argc, char **argv);
/* img-io.c */
int img_read(int argc, char **argv);
int img_write(int argc, char **argv);
int img_zero(int argc, char **argv);
int img_discard(int argc, char **argv);
/* img-edit.c */
int img_create(int argc, char **argv);
int img_resize(int argc, char **argv);
int img_rebase(int argc, char **argv);
int img_set_hidden(int argc, char **argv);

#endif
