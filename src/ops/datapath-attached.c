/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-attached: which domains have attached a volume, so that the
 * last detach (and only it) stops the server.  Domains are opaque xapi
 * strings, kept hex-encoded one per line; the file is replaced
 * atomically and changed only under the SR lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/cleanup.h"
#include "lq/err.h"
#include "lq/file.h"
#include "lq/xerr.h"
#include "datapath-int.h"

#define DP_ATTACHED_MAX (1u << 20)

static char *hex_of(const char *s)
{
	size_t n = strlen(s);
	char *h = malloc(2 * n + 1);

	if (!h)
		return NULL;
	for (size_t i = 0; i < n; i++)
		sprintf(h + 2 * i, "%02x", (unsigned char)s[i]);
	h[2 * n] = '\0';
	return h;
}

static int load(const struct dp *d, char **buf)
{
	size_t len;

	if (file_read_all(d->attached, DP_ATTACHED_MAX, buf, &len) == 0)
		return 0;
	if (err_errnum() != ENOENT)
		return -1;
	*buf = strdup("");
	return *buf ? 0 : err_set(ENOMEM, "out of memory");
}

/* Copies every line of buf except `drop` into out; returns how many. */
static int filter(char *buf, const char *drop, char *out)
{
	int n = 0;

	*out = '\0';
	for (char *save, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (drop && !strcmp(l, drop))
			continue;
		strcat(strcat(out, l), "\n");
		n++;
	}
	return n;
}

static int update(const struct dp *d, const char *domain, bool add)
{
	CLEANUP_FREE char *buf = NULL, *out = NULL, *hex = hex_of(domain);
	int n;

	if (!hex || load(d, &buf) < 0)
		return hex ? -1 : err_set(ENOMEM, "out of memory");
	if (!(out = malloc(strlen(buf) + strlen(hex) + 3)))
		return err_set(ENOMEM, "out of memory");
	n = filter(buf, hex, out);
	if (add && n >= DP_ATTACHED_DOMAINS)
		return err_xapi(XERR_INVALID, "volume %s is attached by %d domains already",
				d->vol.key, n);
	if (add) {
		strcat(strcat(out, hex), "\n");
		n++;
	}
	if (file_write_atomic(d->attached, out, strlen(out), 0600) < 0)
		return -1;
	return n;
}

int ops_dp_attached_add(const struct dp *d, const char *domain)
{
	if (strlen(domain) >= OPS_DOMAIN_MAX)
		return err_xapi(XERR_INVALID, "domain name longer than %d bytes", OPS_DOMAIN_MAX - 1);
	return update(d, domain, true) < 0 ? -1 : 0;
}

/* A domain too long to have been recorded is simply not there. */


int ops_dp_attached_remove(const struct dp *d, const char *domain)
{
	return update(d, strlen(domain) < OPS_DOMAIN_MAX ? domain : "", false);
}

/* Attached: a domain is recorded, or a server may still run (its pid
 * file is there). */
bool ops_datapath_attached(const char *key)
{
	CLEANUP_FREE char *buf = NULL;
	struct dp d = { 0 };
	size_t len = 0;

	if (ops_dp_paths(&d, key) < 0)
		return true;            /* cannot tell: keep the volume */
	if (access(d.pid, F_OK) == 0)
		return true;
	if (file_read_all(d.attached, DP_ATTACHED_MAX, &buf, &len) < 0)
		return err_errnum() != ENOENT;
	return len > 0;
}
