/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* datapath-prune: the holds of volume servers that no longer run.
 *
 * A call killed inside Datapath.attach, after it held the volume's
 * chain and before its server started, or a server that died under an
 * attachment, leaves the volume's dp-<key> holder: the chain stays
 * active and a writable leaf keeps the full room attach gave it.  Under
 * the SR lock no attach is half done (each runs under it from start to
 * end), so a dp- holder whose server neither answers on its control
 * socket nor lives (pid file and command line) is such a leftover: it
 * is released, the volume's kernel NBD device disconnected, and the
 * leaf given back its room.  Any other lasting holder is kept. */
#include <stdio.h>
#include <string.h>

#include "lq/err.h"
#include "lq/log.h"
#include "lq/store.h"
#include "datapath-int.h"
#include "ops-int.h"

#define DP_HOLDER_PREFIX "dp-"
/* Verdicts kept per prune: a holder is asked about once per LV it holds.
 * Beyond this many volumes a verdict is worked out again each time. */
#define PRUNE_MEMO 256

struct verdict {
	char key[UUID_STR_LEN];
	bool needed;
};

struct prune {
	struct verdict v[PRUNE_MEMO];
	size_t n;
};

static const struct verdict *memo_find(const struct prune *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].key, key))
			return &p->v[i];
	return NULL;
}

/* Runs under the store's activation lock: looks at run files only. */
static bool dp_holder_needed(const char *holder, void *arg)
{
	struct prune *p = arg;
	const char *key = holder + strlen(DP_HOLDER_PREFIX);
	const struct verdict *seen;
	struct dp d;
	bool needed;

	if (strncmp(holder, DP_HOLDER_PREFIX, strlen(DP_HOLDER_PREFIX)))
		return true;
	if ((seen = memo_find(p, key)))
		return seen->needed;
	memset(&d, 0, sizeof d);
	if (ops_dp_paths(&d, key) < 0) {
		err_clear();   /* not a volume key: not this module's to judge */
		return true;
	}
	needed = ops_dp_server_alive(&d) || ops_dp_server_running(&d);
	if (p->n < PRUNE_MEMO) {
		snprintf(p->v[p->n].key, sizeof p->v[0].key, "%s", key);
		p->v[p->n++].needed = needed;
	} else if (!needed) {
		log_warn("datapath: volume %s: its server is gone; its leaf keeps its room", key);
	}
	return needed;
}

/* What the released holder's attach took besides the activation. */
static void give_back(struct ops_sr *sr, const char *key)
{
	struct dp d;

	memset(&d, 0, sizeof d);
	d.sr = sr;
	if (ops_dp_paths(&d, key) < 0 || ops_volume_lookup_meta(sr, key, &d.vol) < 0) {
		err_clear();   /* the volume is gone: nothing of it to give back */
		return;
	}
	log_info("datapath: volume %s: its server is gone; its chain is let go", key);
	ops_dp_device_detach(&d);
	ops_dp_shrink_leaf(&d);
}

int ops_dp_holds_prune(struct ops_sr *sr)
{
	struct prune p;   /* 10 KiB */
	int rc;

	p.n = 0;
	rc = store_holders_prune(sr->store, dp_holder_needed, &p);
	for (size_t i = 0; i < p.n; i++)
		if (!p.v[i].needed)
			give_back(sr, p.v[i].key);
	return rc;
}
