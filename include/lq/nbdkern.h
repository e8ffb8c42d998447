/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkern: the kernel's NBD client (nbd.ko) driven through its
 * generic-netlink family "nbd": this process connects to a server's
 * UNIX socket, does the NBD handshake, and hands the connected socket
 * to the kernel, which then serves /dev/nbdN from it.  See
 * docs/datapath.md ("The dom0 block device"). */
#ifndef LQ_NBDKERN_H
#define LQ_NBDKERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the server said about its export in NBD_OPT_GO. */
struct nbdkern_export {
	uint64_t size;
	uint16_t flags;          /* transmission flags */
};

struct nbdkern_opts {
	const char *backend;     /* NBD_ATTR_BACKEND_IDENTIFIER, names the owner */
	uint32_t timeout_s;      /* per-request timeout of the kernel client */
	uint32_t dead_conn_timeout_s;
};

/* Whether the kernel has the "nbd" netlink family (nbd.ko loaded). */
bool nbdkern_available(void);
/* Client side of the fixed-newstyle handshake on a connected fd, ending
 * with NBD_OPT_GO for export; every read is bounded by timeout_ms. */
int nbdkern_handshake(int fd, const char *export, struct nbdkern_export *e, int timeout_ms);
/* Connects to the server on sock, handshakes, and attaches the socket to
 * a free device the kernel picks; *index is N of /dev/nbdN. */
int nbdkern_connect(const char *sock, const char *export, const struct nbdkern_opts *o,
		    int *index);
int nbdkern_disconnect(int index);
/* Whether device index has a configuration (is connected). */
int nbdkern_status(int index, bool *connected);
/* The backend identifier of /dev/nbdN from sysfs; "" when none. */
int nbdkern_backend(int index, char *out, size_t n);

#endif
