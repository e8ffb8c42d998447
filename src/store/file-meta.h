/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-meta.h: the directory store's metadata area file (file-meta.c). */
#ifndef LQ_FILE_META_H
#define LQ_FILE_META_H

#include <stdbool.h>

#define FILE_META_AREA "lvqcow-sr.meta"
#define FILE_META_TMP "lvqcow-sr.meta.tmp"
/* The single-document layout of earlier versions, refused by name. */
#define FILE_META_OLD "lvqcow-sr.xml"

bool file_meta_present(int root_fd);
int file_meta_open(int root_fd, const char *root, bool writable, int *fd);
int file_meta_build(int root_fd, const char *root, int (*fill)(int fd, void *arg), void *arg);

#endif
