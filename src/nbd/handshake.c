/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handshake: the fixed newstyle greeting and the option loop, up to the
 * start of the transmission phase.  Each option is read whole (bounded
 * by NBD_MAX_OPTION_LEN) before it is interpreted; anything we do not
 * know is answered NBD_REP_ERR_UNSUP, as fixed newstyle requires. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lq/cleanup.h"
#include "lq/log.h"
#include "nbd-int.h"

/* Options this large are skipped unread only if skipping is cheap. */
#define NBD_SKIP_OPTION_MAX (16u << 20)

int nbd_opt_reply(struct nbd_conn *c, uint32_t opt, uint32_t type,
		  const void *data, uint32_t len)
{
	uint8_t h[20];
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof h },
		{ .iov_base = (void *)data, .iov_len = len },
	};

	be64_put(h, NBD_REP_MAGIC);
	be32_put(h + 8, opt);
	be32_put(h + 12, type);
	be32_put(h + 16, len);
	return nbd_writev_full(c->fd, iov, len ? 2 : 1, c->srv->bounds.send_ms);
}

int nbd_opt_error(struct nbd_conn *c, uint32_t opt, uint32_t type, const char *msg)
{
	log_debug("nbd[%u]: option %u refused: %s", c->id, opt, msg);
	return nbd_opt_reply(c, opt, type, msg, (uint32_t)strlen(msg));
}

static int send_greeting(struct nbd_conn *c)
{
	uint8_t g[18];

	be64_put(g, NBD_MAGIC);
	be64_put(g + 8, NBD_OPT_MAGIC);
	be16_put(g + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	return nbd_write_full(c->fd, g, sizeof g, c->srv->bounds.send_ms);
}

static int read_client_flags(struct nbd_conn *c)
{
	uint8_t f[4];
	uint32_t flags;

	if (nbd_read_full(c->fd, f, sizeof f) < 0)
		return -1;
	flags = be32_get(f);
	if (flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
		log_info("nbd[%u]: unknown client flags 0x%x, dropping", c->id, flags);
		return -1;
	}
	c->no_zeroes = flags & NBD_FLAG_C_NO_ZEROES;
	return 0;
}

static int opt_structured(struct nbd_conn *c, uint32_t len)
{
	if (len)
		return nbd_opt_error(c, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_INVALID,
				     "option takes no data");
	c->structured = true;
	return nbd_opt_reply(c, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK, NULL, 0);
}

static bool stopping(struct nbd_conn *c)
{
	bool r;

	pthread_mutex_lock(&c->srv->lock);
	r = c->srv->stopping;
	pthread_mutex_unlock(&c->srv->lock);
	return r;
}

/* 1: enter transmission; 0: next option; -1: drop the client. */
static int dispatch(struct nbd_conn *c, uint32_t opt, const uint8_t *d, uint32_t len)
{
	if (stopping(c) && opt != NBD_OPT_ABORT)
		return opt == NBD_OPT_EXPORT_NAME ? -1 :
		       nbd_opt_error(c, opt, NBD_REP_ERR_SHUTDOWN, "server is stopping");
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return nbd_opt_export_name(c, d, len);
	case NBD_OPT_ABORT:
		nbd_opt_reply(c, opt, NBD_REP_ACK, NULL, 0);
		return -1;
	case NBD_OPT_LIST:
		return nbd_opt_list(c, len);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return nbd_opt_info(c, opt, d, len);
	case NBD_OPT_STRUCTURED_REPLY:
		return opt_structured(c, len);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return nbd_opt_meta(c, opt, d, len);
	default:
		return nbd_opt_error(c, opt, NBD_REP_ERR_UNSUP, "option not supported");
	}
}

static int oversize_option(struct nbd_conn *c, uint32_t opt, uint32_t len)
{
	if (opt == NBD_OPT_EXPORT_NAME || len > NBD_SKIP_OPTION_MAX)
		return -1;
	if (nbd_skip(c->fd, len) < 0)
		return -1;
	return nbd_opt_error(c, opt, NBD_REP_ERR_TOO_BIG, "option too large");
}

static int one_option(struct nbd_conn *c)
{
	uint8_t h[NBD_OPTION_HEADER_SIZE];
	CLEANUP_FREE uint8_t *d = NULL;
	uint32_t opt, len;

	if (nbd_read_full(c->fd, h, sizeof h) < 0)
		return -1;
	if (be64_get(h) != NBD_OPT_MAGIC) {
		log_info("nbd[%u]: bad option magic, dropping", c->id);
		return -1;
	}
	opt = be32_get(h + 8);
	len = be32_get(h + 12);
	if (len > NBD_MAX_OPTION_LEN)
		return oversize_option(c, opt, len) < 0 ? -1 : 0;
	if (len && (!(d = malloc(len)) || nbd_read_full(c->fd, d, len) < 0))
		return -1;
	return dispatch(c, opt, d, len);
}

int nbd_handshake(struct nbd_conn *c)
{
	if (send_greeting(c) < 0 || read_client_flags(c) < 0)
		return -1;
	for (int i = 0; i < NBD_MAX_OPTIONS; i++) {
		int r = one_option(c);
		if (r)
			return r > 0 ? 0 : -1;
	}
	log_info("nbd[%u]: too many options, dropping", c->id);
	return -1;
}
