/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rundir: the host's runtime state directory.
 *
 * $LVQCOW_RUNDIR, default /run/lvqcow.  It lives on a tmpfs that a reboot
 * empties, which is exactly the lifetime of SR attachments and datapath
 * activations.  Sub-directories are created on demand (mode 0700). */
#ifndef LQ_RUNDIR_H
#define LQ_RUNDIR_H

#include <stddef.h>

#define RUNDIR_DEFAULT "/run/lvqcow"

const char *rundir_root(void);
/* buf = <root>/<sub> with the directory (and its parents) created. */
int rundir_path(const char *sub, char *buf, size_t n);

#endif
