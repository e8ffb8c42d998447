/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/sr: SR.create, SR.attach, SR.detach and SR.destroy.
 *
 * Crash ordering: SR.create lays out the store first and writes the
 * document last (the SR exists once the document does); SR.destroy
 * has the store check that everything it would remove is its own (else
 * it refuses and nothing changes), then removes the document first (the
 * SR is gone from then on) and the rest after, so a crash leaves an SR or
 * leftovers that SR.create reuses. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lq/err.h"
#include "lq/fault.h"
#include "lq/log.h"
#include "lq/meta.h"
#include "lq/rpc.h"
#include "lq/store.h"
#include "ops-int.h"

struct first_area {
	const char *uuid, *name, *description;
};

static int fill_area(int fd, void *arg)
{
	const struct first_area *f = arg;

	return meta_format(fd, f->uuid, f->name, f->description);
}

static int write_first_doc(struct store *st, const char *uuid, const char *name,
			   const char *description)
{
	struct first_area f = { uuid, name, description };
	int rc = -1;

	if (store_lock(st, STORE_EXCLUSIVE) == 0) {
		/* A concurrent SR.create may have won the race. */
		if (store_sr_exists(st))
			rc = err_xapi(XERR_INVALID, "%s already holds an SR", st->root);
		else
			rc = store_meta_build(st, fill_area, &f);
		store_unlock(st);
	}
	return rc;
}

/* The returned device-config: what we were given, canonical path and
 * the SR uuid that SR.attach checks. */
static int create_result(struct json_object *config, const char *root, const char *uuid,
			 struct json_object **result)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return err_set(ENOMEM, "out of memory");
	json_object_object_foreach(config, k, v)
		json_object_object_add(o, k, json_object_get(v));
	/* A directory SR is named by its path; other stores by what the
	 * config named (a device), which stays as given. */
	if (json_object_object_get_ex(config, "path", NULL))
		json_object_object_add(o, "path", json_object_new_string(root));
	json_object_object_add(o, "sr_uuid", json_object_new_string(uuid));
	*result = o;
	return 0;
}

int ops_sr_cache_config(struct json_object *config, bool *buffered)
{
	struct json_object *c;
	const char *s;

	*buffered = false;
	if (!json_object_object_get_ex(config, "cache", &c))
		return 0;
	s = json_object_is_type(c, json_type_string) ? json_object_get_string(c) : "";
	if (!strcmp(s, "writeback"))
		*buffered = true;
	else if (strcmp(s, "none"))
		return err_xapi(XERR_INVALID,
				"device-config 'cache' must be \"none\" (direct I/O) or \"writeback\"");
	return 0;
}

int ops_sr_create(const char *type, const char *uuid, struct json_object *config,
		  const char *name, const char *description, struct json_object **result)
{
	struct store *st = NULL;
	char *root = NULL;
	bool buffered;
	int rc = -1;

	if (!uuid_is_valid(uuid))
		return err_xapi(XERR_INVALID, "SR uuid '%.64s' is not a uuid", uuid);
	if (ops_check_str("name", name) < 0 || ops_check_str("description", description) < 0 ||
	    ops_sr_cache_config(config, &buffered) < 0 ||
	    store_sr_config(type, config, uuid, &root) < 0)
		return -1;
	if (store_open(type, root, &st) == 0 && store_sr_prepare(st, config) == 0) {
		fault_point("sr-create.prepared");
		if (write_first_doc(st, uuid, name, description) == 0)
			rc = create_result(config, root, uuid, result);
	}
	if (rc == 0)
		log_info("created SR %s at %s", uuid, root);
	store_close(st);
	free(root);
	return rc;
}

int ops_sr_present(const char *type, const char *root)
{
	struct store *st;
	int rc;

	if (store_open(type, root, &st) < 0)
		return -1;
	rc = store_sr_exists(st) ? 1 : 0;
	store_close(st);
	return rc;
}

int ops_plugin_check(const char *type)
{
	if (!store_type_known(type))
		return err_set(EINVAL, "no store for SR type '%.64s'", type);
	return 0;
}

static int check_config_uuid(struct json_object *config, struct ops_sr *h)
{
	struct json_object *u;

	if (json_object_object_get_ex(config, "sr_uuid", &u) &&
	    strcmp(json_object_get_string(u), h->uuid))
		return err_xapi(XERR_SR_NOT_EXIST, "%s holds SR %s, not %.64s", h->sr, h->uuid,
				json_object_get_string(u));
	return 0;
}

int ops_sr_attach(const char *type, struct json_object *config, char **sr_out)
{
	struct ops_sr *h = NULL;
	char *root = NULL;
	int rc = -1, present;
	bool buffered;

	if (ops_sr_cache_config(config, &buffered) < 0 ||
	    store_sr_config(type, config, NULL, &root) < 0)
		return -1;
	if ((present = ops_sr_present(type, root)) == 0) {
		rc = err_xapi(XERR_SR_NOT_EXIST, "no SR at %s", root);
	} else if (present > 0 && ops_sr_load(type, root, true, &h) == 0 &&
		   check_config_uuid(config, h) == 0 &&
		   meta_check(h->meta) == 0 && ops_attach_record(type, h->uuid, h->sr, buffered) == 0) {
		/* Both are housekeeping: their failure must not fail attach. */
		int n = ops_sr_journal_replay(h);
		if (n < 0)
			log_warn("SR %s: journal replay: %s", h->sr, err_last()->msg);
		n = ops_sr_sweep(h);
		if (n > 0)
			log_info("SR %s: set aside %d unreferenced images in quarantine", h->sr, n);
		else if (n < 0)
			log_warn("SR %s: orphan sweep: %s", h->sr, err_last()->msg);
		if (ops_dp_holds_prune(h) < 0)
			log_warn("SR %s: activations of killed calls: %s", h->sr, err_last()->msg);
		*sr_out = root;
		root = NULL;
		rc = 0;
	}
	ops_sr_close(h);
	free(root);
	return rc;
}

/* The metadata area needs no activation once the SR is detached; a
 * failure leaves it active, which harms nothing. */
static void sr_let_go(const char *type, const char *sr)
{
	struct store *st = NULL;

	if (store_open(type, sr, &st) < 0 || store_holder_release(st, STORE_SR_HOLDER) < 0) {
		log_warn("SR.detach %s: %s", sr, err_last()->msg);
		err_clear();
	}
	store_close(st);
}

int ops_sr_detach(const char *type, const char *sr)
{
	struct ops_attachment a;
	int rc;

	if (ops_attach_find(type, sr, &a) < 0)
		return -1;
	rc = ops_attach_forget(a.uuid);
	ops_attach_clear(&a);
	if (rc == 0)
		sr_let_go(type, sr);
	return rc;
}

/* A store may not remove an area this process still has open (an LV
 * cannot be deactivated while open). */
static int close_area(struct ops_sr *h)
{
	if (h->meta_fd >= 0 && close(h->meta_fd) < 0) {
		h->meta_fd = -1;
		return err_sys("SR %s: closing the metadata area: %m", h->sr);
	}
	h->meta_fd = -1;
	return 0;
}

int ops_sr_destroy(const char *type, const char *sr)
{
	struct ops_sr *h;
	int rc = -1;

	if (ops_sr_open(type, sr, OPS_SR_LOCKED, &h) < 0)
		return -1;
	if (h->meta->nvolumes)
		rc = err_xapi(XERR_SR_NOT_EMPTY, "SR %s still has %llu volumes", h->uuid,
			      (unsigned long long)h->meta->nvolumes);
	else if (close_area(h) == 0 && store_sr_remove(h->store) == 0 &&
		 ops_attach_forget(h->uuid) == 0)
		rc = 0;
	if (rc == 0) {
		ops_sr_forget_runtime(h->uuid);
		log_info("destroyed SR %s at %s", h->uuid, h->sr);
	}
	ops_sr_close(h);
	return rc;
}
