/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handshake-meta: LIST_META_CONTEXT and SET_META_CONTEXT.  The only
 * context is base:allocation (holes and zeros of the guest view), which
 * copy tools use to skip unallocated ranges. */
#include <string.h>

#include "nbd-int.h"

static int send_context(struct nbd_conn *c, uint32_t opt, uint32_t id)
{
	static const char name[] = NBD_META_BASE_ALLOCATION;
	uint8_t d[4 + sizeof name];

	be32_put(d, id);
	memcpy(d + 4, name, sizeof name - 1);
	return nbd_opt_reply(c, opt, NBD_REP_META_CONTEXT, d, 4 + sizeof name - 1);
}

int nbd_opt_meta(struct nbd_conn *c, uint32_t opt, const uint8_t *d, uint32_t len)
{
	bool set = opt == NBD_OPT_SET_META_CONTEXT;
	struct nbd_meta_opt o;

	if (set)
		c->meta_base = false;   /* replaced even when the option fails */
	if (!c->structured)
		return nbd_opt_error(c, opt, NBD_REP_ERR_INVALID,
				     "structured replies must be negotiated first");
	if (nbd_parse_meta_opt(d, len, !set, &o) < 0)
		return nbd_opt_error(c, opt, NBD_REP_ERR_INVALID, "malformed request");
	if (!nbd_name_is_ours(c, o.name, o.name_len))
		return nbd_opt_error(c, opt, NBD_REP_ERR_UNKNOWN, "no such export");
	if (o.base_allocation &&
	    send_context(c, opt, set ? NBD_META_BASE_ID : 0) < 0)
		return -1;
	if (set)
		c->meta_base = o.base_allocation;
	return nbd_opt_reply(c, opt, NBD_REP_ACK, NULL, 0);
}
