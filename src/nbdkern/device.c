/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkern-device: connect, query and disconnect /dev/nbdN through the
 * "nbd" netlink family.  A connect names no index: the kernel picks a
 * device with no configuration (or makes one) under its own lock, so two
 * concurrent connects never get the same device. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nbd-netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/nbdkern.h"
#include "nbdkern-int.h"

#define NK_TIMEOUT_MS 10000      /* netlink and handshake waits */
#define NK_BLOCK_SIZE 512        /* what a guest's disk may always use */

/* A netlink socket and the family's id; fd -1 without nbd.ko. */
static int nk_nbd_open(uint16_t *family)
{
	int s = nk_open();

	if (s < 0)
		return -1;
	if (nk_family(s, NBD_GENL_FAMILY_NAME, family, NK_TIMEOUT_MS) < 0) {
		close(s);
		return err_errnum() == ENOENT
			       ? err_set(ENODEV, "the kernel has no NBD client (nbd module not loaded)")
			       : -1;
	}
	return s;
}

bool nbdkern_available(void)
{
	uint16_t family;
	int s = nk_nbd_open(&family);

	if (s < 0)
		return false;
	close(s);
	return true;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof a.sun_path)
		return err_set(ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(a.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_sys("socket: %m");
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		err_sys("connecting to %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

static void put_connect(struct nk_msg *m, int fd, const struct nbdkern_export *e,
			const struct nbdkern_opts *o)
{
	size_t socks, item;

	nk_put_u64(m, NBD_ATTR_SIZE_BYTES, e->size);
	nk_put_u64(m, NBD_ATTR_BLOCK_SIZE_BYTES, NK_BLOCK_SIZE);
	nk_put_u64(m, NBD_ATTR_TIMEOUT, o->timeout_s);
	nk_put_u64(m, NBD_ATTR_DEAD_CONN_TIMEOUT, o->dead_conn_timeout_s);
	nk_put_u64(m, NBD_ATTR_SERVER_FLAGS, e->flags);
	nk_put_u64(m, NBD_ATTR_CLIENT_FLAGS, 0);
	if (o->backend)
		nk_put_str(m, NBD_ATTR_BACKEND_IDENTIFIER, o->backend);
	socks = nk_nest_start(m, NBD_ATTR_SOCKETS);
	item = nk_nest_start(m, NBD_SOCK_ITEM);
	nk_put_u32(m, NBD_SOCK_FD, (uint32_t)fd);
	nk_nest_end(m, item);
	nk_nest_end(m, socks);
}

/* Hands the connected, negotiated fd to the kernel. */
static int kernel_connect(int fd, const struct nbdkern_export *e, const struct nbdkern_opts *o,
			  int *index)
{
	uint8_t reply[16384];
	struct nk_msg m;
	uint16_t family;
	uint32_t idx;
	size_t rlen;
	int s = nk_nbd_open(&family), r = -1;

	if (s < 0)
		return -1;
	nk_msg_init(&m, family, NBD_CMD_CONNECT, NBD_GENL_VERSION);
	put_connect(&m, fd, e, o);
	if (nk_call(s, &m, reply, &rlen, NK_TIMEOUT_MS) == 0) {
		if (nk_u32(nk_find(reply, rlen, NBD_ATTR_INDEX), &idx) < 0 || idx > INT32_MAX)
			err_set(EPROTO, "NBD connect: the kernel did not name the device");
		else
			r = 0, *index = (int)idx;
	}
	close(s);
	return r;
}

int nbdkern_connect(const char *sock, const char *export, const struct nbdkern_opts *o,
		    int *index)
{
	struct nbdkern_export e;
	int r = -1, fd = unix_connect(sock);

	if (fd < 0)
		return -1;
	if (nbdkern_handshake(fd, export, &e, NK_TIMEOUT_MS) == 0)
		r = kernel_connect(fd, &e, o, index);
	close(fd);               /* the kernel holds its own reference */
	return r;
}

static int index_call(int index, uint8_t cmd, uint8_t *reply, size_t *rlen)
{
	struct nk_msg m;
	uint16_t family;
	int r, s = nk_nbd_open(&family);

	if (s < 0)
		return -1;
	nk_msg_init(&m, family, cmd, NBD_GENL_VERSION);
	nk_put_u32(&m, NBD_ATTR_INDEX, (uint32_t)index);
	r = nk_call(s, &m, reply, rlen, NK_TIMEOUT_MS);
	close(s);
	return r;
}

int nbdkern_disconnect(int index)
{
	if (index_call(index, NBD_CMD_DISCONNECT, NULL, NULL) < 0)
		return err_set(err_errnum(), "disconnecting /dev/nbd%d: %s", index, err_last()->msg);
	return 0;
}

/* The reply: DEVICE_LIST { DEVICE_ITEM { INDEX, CONNECTED } }; a device
 * the kernel does not know is simply not in the list. */
int nbdkern_status(int index, bool *connected)
{
	uint8_t reply[16384];
	struct nk_attr list, item, c;
	uint32_t idx;
	size_t rlen;

	*connected = false;
	if (index_call(index, NBD_CMD_STATUS, reply, &rlen) < 0)
		return -1;
	list = nk_find(reply, rlen, NBD_ATTR_DEVICE_LIST);
	item = nk_find(list.data, list.len, NBD_DEVICE_ITEM);
	c = nk_find(item.data, item.len, NBD_DEVICE_CONNECTED);
	if (nk_u32(nk_find(item.data, item.len, NBD_DEVICE_INDEX), &idx) == 0 &&
	    idx == (uint32_t)index && c.len == 1)
		*connected = c.data[0] != 0;
	return 0;
}

int nbdkern_backend(int index, char *out, size_t n)
{
	char path[64];
	ssize_t r;
	int fd;

	assert(n > 0);
	out[0] = '\0';
	snprintf(path, sizeof path, "/sys/block/nbd%d/backend", index);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : err_sys("%s: %m", path);
	r = read(fd, out, n - 1);
	close(fd);
	if (r < 0)
		return err_sys("%s: %m", path);
	out[r] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}
