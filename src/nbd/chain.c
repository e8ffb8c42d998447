/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chain: the images the server serves, as the caller named them — the
 * top and its backing images, nearest parent first.  The server owns a
 * copy (reopen replaces it).  A header's backing name is never used to
 * find an image: only this list is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "nbd-int.h"

void nbd_chain_free(struct nbd_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->backing[i]);
	free(c->backing);
	free(c->top);
	*c = (struct nbd_chain){ 0 };
}

int nbd_chain_dup(struct nbd_chain *dst, const char *top, char *const *backing, size_t n)
{
	struct nbd_chain c = { .n = 0 };

	if (n > NBD_MAX_CHAIN)
		return err_set(EINVAL, "%s: chain deeper than %d images", top, NBD_MAX_CHAIN);
	if (!(c.top = strdup(top)) || (n && !(c.backing = calloc(n, sizeof *c.backing))))
		goto oom;
	for (; c.n < n; c.n++)
		if (!(c.backing[c.n] = strdup(backing[c.n])))
			goto oom;
	*dst = c;
	return 0;
oom:
	nbd_chain_free(&c);
	return err_set(ENOMEM, "out of memory");
}
