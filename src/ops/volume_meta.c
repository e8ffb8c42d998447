/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ops/volume_meta: Volume.stat and the metadata setters (set, unset,
 * set_name, set_description).  Values are opaque to us and stored byte
 * for byte in the SR document. */
#include <json-c/json.h>

#include "lq/err.h"
#include "lq/meta.h"
#include "ops-int.h"

int ops_volume_stat(const char *type, const char *sr_str, const char *key,
		    struct json_object **result)
{
	struct meta_volume *v;
	struct ops_sr *sr;
	int rc;

	if (ops_sr_open(type, sr_str, 0, &sr) < 0)
		return -1;
	rc = ops_find_volume(sr, key, &v);
	if (rc == 0)
		rc = ops_volume_json(sr, v, result);
	ops_sr_close(sr);
	return rc;
}

enum vfield { VF_NAME, VF_DESCRIPTION, VF_SET, VF_UNSET };

static int apply(struct meta_volume *v, enum vfield f, const char *k, const char *val)
{
	switch (f) {
	case VF_NAME: return meta_set_str(&v->name, val);
	case VF_DESCRIPTION: return meta_set_str(&v->description, val);
	case VF_SET: return meta_volume_set_key(v, k, val);
	default: meta_volume_unset_key(v, k); return 0;
	}
}

static int change(const char *type, const char *sr_str, const char *key, enum vfield f,
		  const char *k, const char *val)
{
	struct meta_volume *v;
	struct ops_sr *sr;
	int rc;

	if ((k && ops_check_str("key name", k) < 0) || (val && ops_check_str("value", val) < 0) ||
	    ops_sr_open(type, sr_str, OPS_SR_LOCKED, &sr) < 0)
		return -1;
	rc = ops_find_volume(sr, key, &v);
	if (rc == 0)
		rc = apply(v, f, k, val);
	if (rc == 0)
		rc = ops_sr_commit(sr);
	ops_sr_close(sr);
	return rc;
}

int ops_volume_set(const char *type, const char *sr, const char *key, const char *k, const char *v)
{
	return change(type, sr, key, VF_SET, k, v);
}

int ops_volume_unset(const char *type, const char *sr, const char *key, const char *k)
{
	return change(type, sr, key, VF_UNSET, k, NULL);
}

int ops_volume_set_name(const char *type, const char *sr, const char *key, const char *name)
{
	return change(type, sr, key, VF_NAME, NULL, name);
}

int ops_volume_set_description(const char *type, const char *sr, const char *key,
			       const char *description)
{
	return change(type, sr, key, VF_DESCRIPTION, NULL, description);
}
