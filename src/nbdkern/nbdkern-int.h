/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkern-int: the generic-netlink messages of src/nbdkern, built and
 * parsed in a fixed buffer (shared with the unit test). */
#ifndef LQ_NBDKERN_INT_H
#define LQ_NBDKERN_INT_H

#include <stddef.h>
#include <stdint.h>

#define NK_MSG_MAX 1024

struct nk_msg {
	uint8_t buf[NK_MSG_MAX] __attribute__((aligned(4)));
	size_t len;
	int overflow;            /* an attribute did not fit */
};

/* An attribute found in a payload: its data and length. */
struct nk_attr {
	const uint8_t *data;
	size_t len;
};

void nk_msg_init(struct nk_msg *m, uint16_t family, uint8_t cmd, uint8_t version);
void nk_put(struct nk_msg *m, uint16_t type, const void *data, size_t len);
void nk_put_u32(struct nk_msg *m, uint16_t type, uint32_t v);
void nk_put_u64(struct nk_msg *m, uint16_t type, uint64_t v);
void nk_put_str(struct nk_msg *m, uint16_t type, const char *s);
size_t nk_nest_start(struct nk_msg *m, uint16_t type);
void nk_nest_end(struct nk_msg *m, size_t at);
/* Attribute type of [p, p+len), or a zero-length attr when absent or
 * malformed: the kernel's replies are parsed as hostile input. */
struct nk_attr nk_find(const uint8_t *p, size_t len, uint16_t type);
int nk_u32(struct nk_attr a, uint32_t *v);
/* genl socket round trip: the reply's attributes into reply (its length
 * in *rlen, 0 for an ack only); bounded by timeout_ms. */
int nk_family(int sock, const char *name, uint16_t *id, int timeout_ms);
int nk_call(int sock, struct nk_msg *m, uint8_t *reply, size_t *rlen, int timeout_ms);
int nk_open(void);

#endif
