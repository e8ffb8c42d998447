/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbd-int: the NBD server's private structures and each file's API.
 *
 * Threads: one accept loop (server.c), one thread per client connection
 * running the handshake and then reading requests (handshake*.c,
 * transmission.c), a shared worker pool executing requests against the
 * image (pool.c, request.c), and one thread per control client
 * (control.c).  The image is reached only through the gate (gate.c),
 * which lets the control channel drain, swap and resume it.
 *
 * Lock order: srv->lock, then conn->wlock, then conn->lock, then
 * srv->budget_lock.  No lock is held across image I/O or socket writes,
 * except that the gate's in-flight count pins the backend.
 */
#ifndef LQ_NBD_INT_H
#define LQ_NBD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lq/be.h"
#include "lq/checked.h"
#include "lq/clock.h"
#include "lq/nbd.h"
#include "nbd-proto.h"

#define NBD_MAX_STRING 4096
#define NBD_MAX_OPTION_LEN (64 * 1024)  /* larger options are refused */
#define NBD_MAX_OPTIONS 4096            /* per handshake, then drop */
#define NBD_MAX_PAYLOAD (32u << 20)     /* READ/WRITE cap, advertised */
#define NBD_MAX_CONN_INFLIGHT 128       /* requests queued per connection */
#define NBD_MAX_CONN_BYTES (256u << 20) /* payload bytes per connection */
#define NBD_MAX_EXTENTS 512             /* per BLOCK_STATUS reply */
#define NBD_MAX_CONNS 128
#define NBD_SOCKET_SNDBUF (2 << 20)
#define NBD_MAX_CONTROL 8
#define NBD_SENDER_WAIT_MS 20     /* then a ready reply queues behind the writer */
#define NBD_CONTROL_SLOTS (2 * NBD_MAX_CONTROL)
#define NBD_CONTROL_LINE 4352         /* a command with a path */
#define NBD_META_BASE_ALLOCATION "base:allocation"
#define NBD_META_BASE_ID 1

/* ---- wire.c: byte-buffer decoding (no I/O; fuzzed) ---- */
struct nbd_request {
	uint16_t flags, type;
	uint64_t cookie, off;
	uint32_t len;
};

struct nbd_limits {
	uint64_t size;
	uint32_t max_payload;
	bool readonly, structured, meta_base;
};

struct nbd_info_opt {
	const uint8_t *name;
	uint32_t name_len;
	uint16_t ninfo;
	bool wants_block_size;
};

struct nbd_meta_opt {
	const uint8_t *name;
	uint32_t name_len;
	bool base_allocation;   /* a query selected (or listed) it */
};

/* -1 on a short buffer or bad magic (the stream cannot be resynced). */
int nbd_parse_request(const uint8_t *buf, size_t len, struct nbd_request *r);
/* 0 or the NBD error value the request must be answered with. */
int nbd_check_request(const struct nbd_request *r, const struct nbd_limits *lim);
int nbd_parse_info_opt(const uint8_t *d, size_t n, struct nbd_info_opt *o);
int nbd_parse_meta_opt(const uint8_t *d, size_t n, bool list, struct nbd_meta_opt *o);
bool nbd_export_name_valid(const uint8_t *name, size_t len);

/* ---- bounds.c: limits on time and memory (env overrides) ---- */
struct nbd_bounds {
	int handshake_ms;           /* a connection must finish its handshake */
	int send_ms;                /* a peer must take a whole reply */
	int control_idle_ms;        /* a control client must send a command */
	int pause_limit_ms;         /* a pause lasts before the rescue runs */
	uint64_t max_bytes;         /* request payloads in flight, all clients */
	uint64_t log_max;           /* the log file, before it is rotated */
};

void nbd_bounds_load(struct nbd_bounds *b);
int nbd_control_timeout_ms(void);

/* ---- io.c: whole-buffer socket I/O ---- */
/* A monotonic deadline timeout_ms from now; -1 (no deadline) if negative. */
int64_t nbd_deadline(int timeout_ms);
/* 0 when fd is ready for events, -1 (errno ETIMEDOUT) past the deadline. */
int nbd_wait_fd(int fd, short events, int64_t deadline);
/* 0, or -1 on error or EOF (errno 0 for a clean EOF before any byte). */
int nbd_read_full(int fd, void *buf, size_t len);
/* Sends all within timeout_ms (negative: unbounded); -1 otherwise. */
int nbd_writev_full(int fd, struct iovec *iov, int iovcnt, int timeout_ms);
int nbd_write_full(int fd, const void *buf, size_t len, int timeout_ms);
int nbd_skip(int fd, uint64_t len);
int nbd_read_line(int fd, char *buf, size_t n, int timeout_ms);

/* ---- backend.c, backend-qcow2.c, backend-raw.c: the image ---- */
struct nbd_extent {
	uint64_t off, len;
	uint32_t flags;          /* NBD_STATE_* */
};

struct nbd_backend;
struct nbd_backend_ops {
	int (*pread)(struct nbd_backend *b, void *buf, uint64_t len, uint64_t off);
	int (*pwrite)(struct nbd_backend *b, const void *buf, uint64_t len, uint64_t off);
	/* fast: fail with ENOTSUP unless the zeroing is a metadata update. */
	int (*zero)(struct nbd_backend *b, uint64_t off, uint64_t len, bool may_unmap, bool fast);
	int (*trim)(struct nbd_backend *b, uint64_t off, uint64_t len);
	int (*flush)(struct nbd_backend *b);
	/* Fills up to max (off, len, NBD_STATE_*) runs; returns how many. */
	int (*block_status)(struct nbd_backend *b, uint64_t off, uint64_t len,
			    struct nbd_extent *ext, int max);
	int (*close)(struct nbd_backend *b);
	/* Fill [off, off+len) of the top image from its parent where the top
	 * has nothing (a live downward coalesce); NULL: not supported. */
	int (*stream)(struct nbd_backend *b, uint64_t off, uint64_t len, uint64_t *bytes);
	/* Sync written data without stalling I/O (before a flush); may be NULL. */
	int (*sync)(struct nbd_backend *b);
};

struct nbd_backend {
	const struct nbd_backend_ops *ops;
	uint64_t size;
	void *priv;
};

/* chain.c: the top image and its backing images, nearest parent first. */
struct nbd_chain {
	char *top;
	char **backing;
	size_t n;
};

int nbd_chain_dup(struct nbd_chain *dst, const char *top, char *const *backing, size_t n);
void nbd_chain_free(struct nbd_chain *c);

int nbd_backend_open(const struct nbd_chain *ch, const struct nbd_server_opts *o,
		     struct nbd_backend **out);
int nbd_backend_close(struct nbd_backend *b);
int nbd_backend_open_qcow2(const struct nbd_chain *ch, bool readonly, bool direct,
			   struct nbd_backend *b);
int nbd_backend_open_raw(const char *path, bool readonly, bool direct, struct nbd_backend *b);

/* ---- server.c, gate.c: shared state ---- */
struct nbd_conn;
struct nbd_job;

struct nbd_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct nbd_job *head, *tail;
	bool stop;
	int nthreads;
	pthread_t *threads;
};

/* A control client.  At most NBD_MAX_CONTROL are live; a newcomer
 * beyond that evicts the one idle longest, so idle clients can never
 * lock the plugin out.  Evicted ones keep their slot until their thread
 * ends, hence twice as many slots. */
struct nbd_control_slot {
	int fd;                     /* -1: free */
	int64_t seen;               /* last command (clock_now_ms) */
	bool busy, evicted;
};

/* stream.c: the background copy of the parent's clusters into the top
 * image (docs/gc.md, "Live leaf coalesce").  Fields under srv->lock. */
enum nbd_stream_state {
	NBD_STREAM_IDLE,
	NBD_STREAM_RUNNING,
	NBD_STREAM_DONE,            /* the top shadows the parent, flushed */
	NBD_STREAM_FAILED,
	NBD_STREAM_CANCELLED,       /* a reopen, a cancel or the stop */
};

struct nbd_stream {
	enum nbd_stream_state state;
	bool cancel;
	bool joinable;              /* a thread to join */
	pthread_t thread;
	char *top, *parent;         /* the chain it was asked for */
	uint64_t done, total, copied;
	char msg[256];
};

struct nbd_server {
	struct nbd_server_opts opts;
	struct nbd_chain chain;     /* served now (reopen may change it) */
	int listen_fd, control_fd, signal_fd, wake_rd, wake_wr;

	pthread_mutex_t lock;       /* everything below */
	pthread_cond_t cond;
	struct nbd_backend *be;     /* NULL after a failed reopen */
	uint64_t size;              /* export size for new clients */
	uint64_t start_size;        /* no reopen goes below it */
	unsigned inflight;          /* requests inside the gate */
	bool paused, stopping;
	int64_t paused_at;          /* when the current pause began */
	pid_t rescuer;              /* the running opts.on_stuck command, or 0 */
	unsigned nconns, ncontrol;
	struct nbd_conn *conns;
	uint64_t served;            /* requests completed, for status */
	/* What pauses cost the clients, for status: how many, how long in
	 * all, and how many requests arrived during one and waited. */
	uint64_t pauses, paused_ms, held;
	int64_t pause_began;

	struct nbd_stream stream;
	struct nbd_control_slot control[NBD_CONTROL_SLOTS];
	pthread_mutex_t control_lock; /* one control command at a time */
	struct nbd_pool pool;
	struct nbd_bounds bounds;   /* constant once serving */

	pthread_mutex_t budget_lock; /* request memory of all connections */
	pthread_cond_t budget_cond;
	uint64_t budget_used;
	int64_t log_window;         /* rate limit of request failure lines */
	unsigned log_lines, log_dropped;
};

/* budget.c: the global cap on request and reply memory (max_bytes).
 * take blocks a reader until the bytes fit (anything fits an empty
 * budget, so one request always proceeds); charge never blocks (a
 * worker queueing a reply must not wait). */
void nbd_budget_take(struct nbd_server *s, uint64_t bytes);
void nbd_budget_charge(struct nbd_server *s, uint64_t bytes);
void nbd_budget_give(struct nbd_server *s, uint64_t bytes);
/* Whether a request failure may be logged now (at most a few a second). */
bool nbd_log_allowed(struct nbd_server *s);

/* watch.c: runs opts.on_stuck when a pause outlasts pause_limit_ms, and
 * reaps it (called from the accept loop's tick). */
void nbd_pause_watch(struct nbd_server *s);

/* stream.c (control commands "stream", "stream-status", "stream-cancel") */
int nbd_stream_start(struct nbd_server *s, const char *top, const char *parent);
/* One status line: "stream=STATE done=N total=N copied=N[ error=...]". */
void nbd_stream_describe(struct nbd_server *s, char *buf, size_t n);
/* Stops a running stream and waits for its thread (not called paused:
 * the thread may be inside the gate). */
void nbd_stream_stop(struct nbd_server *s);
/* Under srv->lock: the chain is about to change; the stream ends at its
 * next gate entry. */
void nbd_stream_cancel_locked(struct nbd_server *s, const char *why);

/* gate.c */
/* For the stream: like enter, but gives up (NULL) once cancelled. */
struct nbd_backend *nbd_gate_enter_stream(struct nbd_server *s);
/* Blocks while paused; NULL (errno ESHUTDOWN/EIO) when there is no image. */
struct nbd_backend *nbd_gate_enter(struct nbd_server *s);
void nbd_gate_leave(struct nbd_server *s);
int nbd_gate_pause(struct nbd_server *s);
void nbd_gate_resume(struct nbd_server *s);
/* Takes over *ch (freed on failure). */
int nbd_gate_reopen(struct nbd_server *s, struct nbd_chain *ch);
/* Tells c the export size; from then on no reopen may shrink below it. */
void nbd_gate_take_size(struct nbd_conn *c);

/* ---- conn.c: connections ---- */
struct nbd_conn {
	struct nbd_server *srv;
	int fd;
	unsigned id;
	pthread_mutex_t lock;       /* inflight, bytes, dead */
	pthread_cond_t cond;
	unsigned inflight;
	size_t inflight_bytes;
	size_t out_bytes;           /* replies queued behind the sender */
	pthread_mutex_t wlock;      /* sending, outq, dead; never held over I/O */
	pthread_cond_t wcond;       /* the writer is done */
	bool sending;               /* one thread writes replies; others queue */
	struct nbd_out *outq, **outq_tail;
	bool dead;                  /* a reply failed: the stream is broken */
	bool in_handshake, evicted; /* under srv->lock */
	int64_t hs_deadline;        /* the handshake must end by then */
	bool structured, meta_base, no_zeroes;
	uint64_t size;              /* as advertised to this client */
	uint16_t tflags;
	struct nbd_conn *next, **pprev;
};

void nbd_conn_start(struct nbd_server *s, int fd);
/* Drops connections whose handshake is past its deadline. */
void nbd_conn_reap_handshakes(struct nbd_server *s);
bool nbd_conn_dead(struct nbd_conn *c);
void nbd_conn_out_charge(struct nbd_conn *c, size_t bytes, bool add);
void nbd_conn_job_done(struct nbd_conn *c, size_t bytes);
/* Shut the read side of every connection so readers end and drain. */
void nbd_conn_shutdown_all(struct nbd_server *s, int how);

/* ---- handshake.c, handshake-info.c, handshake-meta.c ---- */
/* 0: transmission phase begins; -1: drop the client. */
int nbd_handshake(struct nbd_conn *c);
int nbd_opt_reply(struct nbd_conn *c, uint32_t opt, uint32_t type,
		  const void *data, uint32_t len);
int nbd_opt_error(struct nbd_conn *c, uint32_t opt, uint32_t type, const char *msg);
int nbd_opt_info(struct nbd_conn *c, uint32_t opt, const uint8_t *d, uint32_t len);
int nbd_opt_export_name(struct nbd_conn *c, const uint8_t *d, uint32_t len);
int nbd_opt_list(struct nbd_conn *c, uint32_t len);
int nbd_opt_meta(struct nbd_conn *c, uint32_t opt, const uint8_t *d, uint32_t len);
bool nbd_name_is_ours(struct nbd_conn *c, const uint8_t *name, uint32_t len);
uint16_t nbd_transmission_flags(struct nbd_conn *c);

/* ---- transmission.c: the request reader ---- */
void nbd_transmission(struct nbd_conn *c);

/* ---- pool.c, request.c: execution ---- */
struct nbd_job {
	struct nbd_conn *conn;
	struct nbd_request req;
	uint8_t *buf;               /* WRITE payload */
	struct nbd_job *next;
};

int nbd_pool_start(struct nbd_server *s, int nthreads);
void nbd_pool_push(struct nbd_server *s, struct nbd_job *j);
void nbd_pool_stop(struct nbd_server *s);
void nbd_job_run(struct nbd_job *j);

/* ---- reply.c ---- */
int nbd_reply_simple(struct nbd_conn *c, uint64_t cookie, uint32_t err,
		     const void *data, size_t len);
int nbd_reply_chunk(struct nbd_conn *c, uint64_t cookie, uint16_t flags,
		    uint16_t type, struct iovec *payload, int npayload);
/* An error answer in whatever form this connection negotiated. */
int nbd_reply_error(struct nbd_conn *c, const struct nbd_request *r, uint32_t err);
int nbd_reply_ok(struct nbd_conn *c, const struct nbd_request *r);
uint32_t nbd_errno_to_wire(int e);
/* A reply's data buffer, which the caller would free after sending.
 * If the reply has to queue behind another, the queue takes the buffer
 * (buf becomes NULL) instead of copying it. */
struct nbd_give {
	void *buf;
	size_t len;
};
/* A reply already laid out in iovecs (a READ's header(s) and data);
 * g (or NULL) offers the data buffer the iovecs point into. */
int nbd_reply_iov(struct nbd_conn *c, struct iovec *iov, int n, struct nbd_give *g);
/* A simple reply carrying all of g's buffer. */
int nbd_reply_data(struct nbd_conn *c, uint64_t cookie, struct nbd_give *g);

/* ---- control.c ---- */
void nbd_control_start(struct nbd_server *s, int fd);
/* Asks the accept loop to begin the clean shutdown. */
void nbd_server_wake(struct nbd_server *s);
void nbd_control_shutdown_all(struct nbd_server *s);

/* ---- listen.c ---- */
int nbd_listen(const char *path);
/* timeout_ms bounds the connect (a listener whose backlog is full). */
int nbd_unix_connect(const char *path, int timeout_ms);
int nbd_write_pidfile(const char *path);

#endif
