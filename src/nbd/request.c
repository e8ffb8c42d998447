/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* request: executing one validated request against the image and
 * answering it.  Requests reach the image only inside the gate; the
 * reply goes out after leaving it, so a slow client never holds up a
 * pause. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "lq/err.h"
#include "lq/log.h"
#include "nbd-int.h"

int nbd_read_reply(struct nbd_conn *c, struct nbd_backend *be,
		   const struct nbd_request *r);
int nbd_block_status_reply(struct nbd_conn *c, struct nbd_backend *be,
			   const struct nbd_request *r);

static int fua(struct nbd_backend *be, const struct nbd_request *r, int rc)
{
	if (rc == 0 && (r->flags & NBD_CMD_FLAG_FUA))
		rc = be->ops->flush(be);
	return rc;
}

static int run_zero(struct nbd_backend *be, const struct nbd_request *r)
{
	bool may_unmap = !(r->flags & NBD_CMD_FLAG_NO_HOLE);
	bool fast = r->flags & NBD_CMD_FLAG_FAST_ZERO;

	return fua(be, r, be->ops->zero(be, r->off, r->len, may_unmap, fast));
}

/* Commands whose reply carries no data: 0 or -1 with err recorded. */
static int run_plain(struct nbd_backend *be, const struct nbd_request *r, const uint8_t *buf)
{
	switch (r->type) {
	case NBD_CMD_WRITE:
		return fua(be, r, r->len ? be->ops->pwrite(be, buf, r->len, r->off) : 0);
	case NBD_CMD_FLUSH:
		return be->ops->flush(be);
	case NBD_CMD_TRIM:
		return fua(be, r, r->len ? be->ops->trim(be, r->off, r->len) : 0);
	case NBD_CMD_WRITE_ZEROES:
		return r->len ? run_zero(be, r) : 0;
	default:
		/* nbd_check_request admits no other command to the pool. */
		assert(!"unreachable: command not validated");
		return -1;
	}
}

static void log_failure(struct nbd_conn *c, const struct nbd_request *r)
{
	if (err_errnum() == ENOTSUP)
		log_debug("nbd[%u]: %s", c->id, err_last()->msg);
	else if (nbd_log_allowed(c->srv))
		log_error("nbd[%u]: command %u at %llu+%u: %s", c->id, r->type,
			  (unsigned long long)r->off, r->len, err_last()->msg);
}

static void answer_plain(struct nbd_job *j, struct nbd_backend *be)
{
	const struct nbd_request *r = &j->req;
	int rc = run_plain(be, r, j->buf);
	uint32_t err = rc < 0 ? nbd_errno_to_wire(err_errnum()) : 0;

	if (rc < 0)
		log_failure(j->conn, r);
	nbd_gate_leave(j->conn->srv);
	if (err)
		nbd_reply_error(j->conn, r, err);
	else
		nbd_reply_ok(j->conn, r);
}

static void dispatch(struct nbd_job *j, struct nbd_backend *be)
{
	struct nbd_conn *c = j->conn;
	const struct nbd_request *r = &j->req;

	switch (r->type) {
	case NBD_CMD_READ:
		if (nbd_read_reply(c, be, r) < 0)
			log_failure(c, r);
		break;
	case NBD_CMD_BLOCK_STATUS:
		if (nbd_block_status_reply(c, be, r) < 0)
			log_failure(c, r);
		break;
	default:
		answer_plain(j, be);
	}
}

void nbd_job_run(struct nbd_job *j)
{
	struct nbd_conn *c = j->conn;
	struct nbd_backend *be;
	size_t bytes = j->req.type == NBD_CMD_READ || j->req.type == NBD_CMD_WRITE
		       ? j->req.len : 0;

	err_clear();
	if (nbd_conn_dead(c))
		be = NULL;              /* no one to answer: skip the work */
	else if ((be = nbd_gate_enter(c->srv)))
		dispatch(j, be);
	else
		nbd_reply_error(c, &j->req, nbd_errno_to_wire(err_errnum()));
	free(j->buf);
	free(j);
	nbd_conn_job_done(c, bytes);
}
