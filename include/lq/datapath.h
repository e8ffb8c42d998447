/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath: the Datapath.* verbs — one NBD server process per attached
 * volume, started by attach and stopped by the last detach, with the
 * activation rules (one writer unless sharable, any number of readers)
 * and non-persistent mode (writes go to a temporary overlay that close
 * throws away).  See docs/datapath.md. */
#ifndef LQ_DATAPATH_H
#define LQ_DATAPATH_H

#include <limits.h>
#include <stdbool.h>

struct ops_dp_backend {
	char socket[PATH_MAX];   /* the NBD server's UNIX socket */
	char export_name[64];    /* the volume key */
	int device;              /* N of /dev/nbdN, -1 without a kernel NBD client */
};

int ops_datapath_open(const char *uri, bool persistent);
int ops_datapath_attach(const char *uri, const char *domain, struct ops_dp_backend *out);
int ops_datapath_activate(const char *uri, const char *domain, bool read_write);
int ops_datapath_deactivate(const char *uri, const char *domain);
/* Never fails: problems are logged. */
void ops_datapath_detach(const char *uri, const char *domain);
int ops_datapath_close(const char *uri);
/* Moves a running server of volume key onto its chain as the metadata
 * names it now, after the chain changed (pause, reopen, resume); 0 if
 * no server runs.  sr is opened with the SR lock held. */
struct ops_sr;
int ops_datapath_reopen(struct ops_sr *sr, const char *key);
/* The same for a server the caller has paused (ops_datapath_pause): only
 * the reopen itself, which keeps the pause short; it stays paused. */
int ops_datapath_reopen_paused(struct ops_sr *sr, const char *key);
/* Around a live change of the chain: pause the running server of key,
 * if any (*paused says whether one was), and resume it afterwards.  A
 * pause outlives the call; a server left paused by a killed call runs
 * "lvqcow resume" (ops_datapath_rescue) once the pause is overdue. */
int ops_datapath_pause(struct ops_sr *sr, const char *key, bool *paused);
int ops_datapath_resume(struct ops_sr *sr, const char *key);
/* Under the SR lock no call is between its pause and its resume, so a
 * paused server of key is left over: move it onto the chain the
 * metadata names and resume it.  *resumed false if it was not paused. */
int ops_datapath_rescue(const char *type, const char *sr, const char *key, bool *resumed);
/* Live leaf coalesce (docs/gc.md): whether volume key's server answers
 * and serves the volume's own leaf (not a non-persistent overlay). */
bool ops_datapath_streamable(const char *key);
/* Sends a stream command ("stream TOP<TAB>PARENT", "stream-status",
 * "stream-cancel") to volume key's server; the reply line in reply. */
int ops_datapath_stream(const char *key, const char *cmd, char *reply, size_t n);
/* Whether volume key is attached on this host (Volume.destroy refuses). */
bool ops_datapath_attached(const char *key);
/* One line per running server; *out malloc'd. */
int ops_datapath_diagnostics(char **out);

#endif
