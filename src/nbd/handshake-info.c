/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handshake-info: the options that describe or select the export —
 * EXPORT_NAME, INFO, GO and LIST.  There is one export; the empty
 * (default) name reaches it too. */
#include <string.h>

#include "nbd-int.h"

#define NBD_PREFERRED_BLOCK 4096u

bool nbd_name_is_ours(struct nbd_conn *c, const uint8_t *name, uint32_t len)
{
	const char *ours = c->srv->opts.export_name;

	return len == 0 || (len == strlen(ours) && !memcmp(name, ours, len));
}

/* Multi-connection is safe: every connection goes through the one
 * engine handle, so a flush on any connection covers every write. */
uint16_t nbd_transmission_flags(struct nbd_conn *c)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
		     NBD_FLAG_CAN_MULTI_CONN;

	if (c->structured)
		f |= NBD_FLAG_SEND_DF;
	if (c->srv->opts.readonly)
		f |= NBD_FLAG_READ_ONLY;
	else
		f |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO;
	return f;
}

static void select_export(struct nbd_conn *c)
{
	nbd_gate_take_size(c);
	c->tflags = nbd_transmission_flags(c);
}

static int send_info_export(struct nbd_conn *c, uint32_t opt)
{
	uint8_t d[12];

	be16_put(d, NBD_INFO_EXPORT);
	be64_put(d + 2, c->size);
	be16_put(d + 10, c->tflags);
	return nbd_opt_reply(c, opt, NBD_REP_INFO, d, sizeof d);
}

/* Any alignment works (the engine copes with partial clusters), so the
 * minimum is 1 and clients that ignore this reply lose nothing. */
static int send_info_block_size(struct nbd_conn *c, uint32_t opt)
{
	uint8_t d[14];

	be16_put(d, NBD_INFO_BLOCK_SIZE);
	be32_put(d + 2, 1);
	be32_put(d + 6, NBD_PREFERRED_BLOCK);
	be32_put(d + 10, NBD_MAX_PAYLOAD);
	return nbd_opt_reply(c, opt, NBD_REP_INFO, d, sizeof d);
}

int nbd_opt_info(struct nbd_conn *c, uint32_t opt, const uint8_t *d, uint32_t len)
{
	struct nbd_info_opt o;

	if (nbd_parse_info_opt(d, len, &o) < 0)
		return nbd_opt_error(c, opt, NBD_REP_ERR_INVALID, "malformed request");
	if (!nbd_name_is_ours(c, o.name, o.name_len))
		return nbd_opt_error(c, opt, NBD_REP_ERR_UNKNOWN, "no such export");
	select_export(c);
	if (send_info_export(c, opt) < 0 || send_info_block_size(c, opt) < 0 ||
	    nbd_opt_reply(c, opt, NBD_REP_ACK, NULL, 0) < 0)
		return -1;
	return opt == NBD_OPT_GO ? 1 : 0;
}

/* There is no error reply to EXPORT_NAME: an unknown name ends the
 * session. */
int nbd_opt_export_name(struct nbd_conn *c, const uint8_t *d, uint32_t len)
{
	uint8_t r[8 + 2 + 124] = { 0 };

	if (!nbd_export_name_valid(d, len) || !nbd_name_is_ours(c, d, len))
		return -1;
	select_export(c);
	be64_put(r, c->size);
	be16_put(r + 8, c->tflags);
	if (nbd_write_full(c->fd, r, c->no_zeroes ? 10 : sizeof r, c->srv->bounds.send_ms) < 0)
		return -1;
	return 1;
}

int nbd_opt_list(struct nbd_conn *c, uint32_t len)
{
	const char *name = c->srv->opts.export_name;
	uint32_t n = (uint32_t)strlen(name);
	uint8_t d[4 + NBD_MAX_STRING];

	if (len)
		return nbd_opt_error(c, NBD_OPT_LIST, NBD_REP_ERR_INVALID, "option takes no data");
	if (n > NBD_MAX_STRING)
		return -1;
	be32_put(d, n);
	memcpy(d + 4, name, n);
	if (nbd_opt_reply(c, NBD_OPT_LIST, NBD_REP_SERVER, d, 4 + n) < 0)
		return -1;
	return nbd_opt_reply(c, NBD_OPT_LIST, NBD_REP_ACK, NULL, 0);
}
