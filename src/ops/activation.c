/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/activation: per-host runtime records of volume activations.
 *
 * <rundir>/sr/<sr uuid>/active/<key>, a small text file:
 *   lvqcow-activation 1
 *   persistent 0|1
 *   rw|ro <domain as hex>      (one line per domain)
 * Domains are opaque strings from xapi, so they are stored hex-encoded:
 * no byte of theirs can break the line format.  Records change only under
 * the SR lock and are replaced atomically. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/meta.h"
#include "lq/rpc.h"
#include "ops-int.h"

#define ACT_MAGIC "lvqcow-activation 1\n"
#define ACT_MAX_BYTES 65536

static int act_path(struct ops_sr *sr, const char *key, char *buf, size_t n)
{
	char dir[PATH_MAX];
	int len;

	if (!uuid_is_valid(key))
		return err_xapi(XERR_VOL_NOT_EXIST, "%.200s", key);
	if (ops_sr_runtime_dir(sr, dir, sizeof dir) < 0)
		return -1;
	len = snprintf(buf, n, "%s/active", dir);
	if (len < 0 || (size_t)len >= n || (mkdir(buf, 0700) < 0 && errno != EEXIST))
		return err_sys("runtime directory %s: %m", buf);
	if (snprintf(buf, n, "%s/active/%s", dir, key) >= (int)n)
		return err_set(ENAMETOOLONG, "runtime path too long");
	return 0;
}

static int hex_decode(const char *h, char *out, size_t n)
{
	size_t len = strlen(h);

	if (len % 2 || len / 2 >= n)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1 || v == 0)
			return -1;
		out[i] = (char)v;
	}
	out[len / 2] = '\0';
	return 0;
}

static int parse_line(struct ops_activation *act, char *line)
{
	char *sp = strchr(line, ' ');
	struct ops_active *d;

	if (!sp)
		return -1;
	*sp++ = '\0';
	if (!strcmp(line, "persistent") && (!strcmp(sp, "0") || !strcmp(sp, "1"))) {
		act->persistent = sp[0] == '1';
		return 0;
	}
	if ((strcmp(line, "rw") && strcmp(line, "ro")) || act->n >= OPS_ACTIVE_MAX)
		return -1;
	d = &act->dom[act->n];
	if (hex_decode(sp, d->domain, sizeof d->domain) < 0)
		return -1;
	d->read_write = line[1] == 'w';
	act->n++;
	return 0;
}

static int act_parse(const char *path, char *buf, struct ops_activation *act)
{
	char *save = NULL, *line;

	if (strncmp(buf, ACT_MAGIC, strlen(ACT_MAGIC)))
		return err_corrupt("activation record %s: bad header", path);
	for (line = strtok_r(buf + strlen(ACT_MAGIC), "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (parse_line(act, line) < 0)
			return err_corrupt("activation record %s: bad line", path);
	return 0;
}

static int act_load(const char *path, struct ops_activation *act)
{
	CLEANUP_FREE char *buf = NULL;
	size_t len;

	memset(act, 0, sizeof *act);
	act->persistent = true;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (file_read_all(path, ACT_MAX_BYTES, &buf, &len) < 0)
		return -1;
	return act_parse(path, buf, act);
}

static char *act_format(const struct ops_activation *act)
{
	size_t cap = 64 + act->n * (4 + 2 * OPS_DOMAIN_MAX);
	char *buf = malloc(cap), *o = buf;

	if (!buf)
		return NULL;
	o += sprintf(o, "%spersistent %d\n", ACT_MAGIC, act->persistent ? 1 : 0);
	for (size_t i = 0; i < act->n; i++) {
		o += sprintf(o, "%s ", act->dom[i].read_write ? "rw" : "ro");
		for (const unsigned char *p = (const unsigned char *)act->dom[i].domain; *p; p++)
			o += sprintf(o, "%02x", *p);
		*o++ = '\n';
	}
	*o = '\0';
	return buf;
}

static int act_store(const char *path, const struct ops_activation *act)
{
	char *buf;
	int rc;

	if (act->n == 0 && act->persistent) {
		if (unlink(path) < 0 && errno != ENOENT)
			return err_sys("unlink %s: %m", path);
		return 0;
	}
	if (!(buf = act_format(act)))
		return err_set(ENOMEM, "out of memory");
	rc = file_write_atomic(path, buf, strlen(buf), 0600);
	free(buf);
	return rc;
}

int ops_activation_get(struct ops_sr *sr, const char *key, struct ops_activation *out)
{
	char path[PATH_MAX];

	if (act_path(sr, key, path, sizeof path) < 0)
		return -1;
	return act_load(path, out);
}

int ops_activation_update(struct ops_sr *sr, const char *key, ops_activation_fn fn, void *arg)
{
	struct meta_volume *v;
	struct ops_activation act;
	char path[PATH_MAX];

	if (!sr->locked)
		return err_set(EINVAL, "activation update without the SR lock");
	if (ops_find_volume(sr, key, &v) < 0 || act_path(sr, key, path, sizeof path) < 0 ||
	    act_load(path, &act) < 0 || fn(&act, arg) < 0)
		return -1;
	return act_store(path, &act);
}

int ops_activation_find(const struct ops_activation *act, const char *domain)
{
	for (size_t i = 0; i < act->n; i++)
		if (!strcmp(act->dom[i].domain, domain))
			return (int)i;
	return -1;
}

int ops_activation_put(struct ops_activation *act, const char *domain, bool read_write)
{
	int i = ops_activation_find(act, domain);

	if (!domain[0] || strlen(domain) >= OPS_DOMAIN_MAX)
		return err_xapi(XERR_INVALID, "domain '%.64s' is empty or too long", domain);
	if (i < 0 && act->n >= OPS_ACTIVE_MAX)
		return err_xapi(XERR_VDI_IN_USE, "already active for %d domains", OPS_ACTIVE_MAX);
	if (i < 0)
		i = (int)act->n++;
	snprintf(act->dom[i].domain, sizeof act->dom[i].domain, "%s", domain);
	act->dom[i].read_write = read_write;
	return 0;
}

void ops_activation_drop(struct ops_activation *act, const char *domain)
{
	int i = ops_activation_find(act, domain);

	if (i < 0)
		return;
	memmove(&act->dom[i], &act->dom[i + 1], (act->n - (size_t)i - 1) * sizeof act->dom[0]);
	act->n--;
}

int ops_activation_busy(struct ops_sr *sr, const char *key, bool *busy)
{
	struct ops_activation act;

	if (ops_activation_get(sr, key, &act) < 0)
		return -1;
	*busy = act.n > 0;
	return 0;
}

void ops_activation_forget(struct ops_sr *sr, const char *key)
{
	char path[PATH_MAX];

	if (act_path(sr, key, path, sizeof path) == 0)
		unlink(path);
}
