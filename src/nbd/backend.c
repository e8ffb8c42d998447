/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend: opening and closing the image the server exposes.  The
 * qcow2 chain is the product; a raw file is also served, which lets the
 * benchmarks tell protocol overhead from engine cost. */
#include <errno.h>
#include <stdlib.h>

#include "lq/err.h"
#include "nbd-int.h"

int nbd_backend_open(const struct nbd_chain *ch, const struct nbd_server_opts *o,
		     struct nbd_backend **out)
{
	struct nbd_backend *b = calloc(1, sizeof *b);
	int r;

	if (!b)
		return err_set(ENOMEM, "out of memory");
	if (o->format == NBD_FORMAT_RAW && ch->n)
		r = err_set(EINVAL, "%s: a raw image has no backing chain", ch->top);
	else if (o->format == NBD_FORMAT_RAW)
		r = nbd_backend_open_raw(ch->top, o->readonly, o->direct, b);
	else
		r = nbd_backend_open_qcow2(ch, o->readonly, o->direct, b);
	if (r < 0) {
		free(b);
		return -1;
	}
	*out = b;
	return 0;
}

/* Closing flushes; a failed flush is reported but the handle is gone. */
int nbd_backend_close(struct nbd_backend *b)
{
	int r;

	if (!b)
		return 0;
	r = b->ops->close(b);
	free(b);
	return r;
}
