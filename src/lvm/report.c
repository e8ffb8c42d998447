/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm/report: reading lvs/vgs reports (--reportformat json).
 *
 * The report arrives as the report code's lines; joined by '\n' they are
 * one JSON document {"report": [{"lv": [{field: "string", ...}, ...]}]}
 * (with LVM >= 2.03.26 also a "log" member, ignored).  Every value is a
 * string; sizes are requested with --units b --nosuffix, so they are
 * plain decimal byte counts.  Nothing is guessed: a document that is not
 * of this shape, a missing or mistyped field, a size that is not a
 * decimal integer within 64 bits, a name LVM itself would refuse, or a
 * report line that may have been cut at the callback's 4095 bytes, fails
 * the whole report with an error naming what was wrong. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lvm-int.h"

static int bad(const char *what, const char *detail)
{
	return err_set(EIO, "lvm report: %s: %s", what, detail);
}

static int get_str(struct json_object *row, const char *key, const char **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(row, key, &v) || !json_object_is_type(v, json_type_string))
		return bad(key, "missing or not a string");
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return bad(key, "holds a NUL byte");
	return 0;
}

static int get_u64(struct json_object *row, const char *key, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;

	if (get_str(row, key, &s) < 0)
		return -1;
	if (!*s || strlen(s) > 20)
		return bad(key, "not a byte count");
	for (const char *p = s; *p; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return bad(key, "not a byte count");
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int copy_str(struct json_object *row, const char *key, char *buf, size_t n)
{
	const char *s;

	if (get_str(row, key, &s) < 0)
		return -1;
	if (strlen(s) >= n)
		return bad(key, "too long");
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static bool only_space(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return !*p;
}

/* One JSON document and nothing after it. */
static struct json_object *parse_strict(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	size_t len = strlen(text);
	struct json_object *o = NULL;

	if (!tok) {
		err_set(ENOMEM, "lvm report: out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (len <= (size_t)INT32_MAX)
		o = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	if (o && (e != json_tokener_success || !only_space(text + json_tokener_get_parse_end(tok)))) {
		json_object_put(o);
		o = NULL;
		e = json_tokener_error_parse_unexpected;
	}
	json_tokener_free(tok);
	if (!o)
		bad("not one JSON document", e == json_tokener_continue ? "truncated or empty"
									 : json_tokener_error_desc(e));
	return o;
}

/* The rows array of a one-section report of kind ("lv", "vg"). */
static int rows_of(const char *text, bool cut, const char *kind, struct json_object **doc,
		   struct json_object **rows)
{
	struct json_object *rep, *sect;

	if (cut)
		return bad(kind, "a report line reached 4095 bytes and may have been cut");
	if (!text)
		return bad(kind, "no report printed");
	if (!(*doc = parse_strict(text)))
		return -1;
	if (!json_object_object_get_ex(*doc, "report", &rep) ||
	    !json_object_is_type(rep, json_type_array) || json_object_array_length(rep) != 1)
		return bad(kind, "no single \"report\" section");
	sect = json_object_array_get_idx(rep, 0);
	if (!json_object_is_type(sect, json_type_object) ||
	    !json_object_object_get_ex(sect, kind, rows) ||
	    !json_object_is_type(*rows, json_type_array))
		return bad(kind, "the section holds no rows array");
	return 0;
}

static int tags_ok(const char *what, const char *tags)
{
	char buf[LVM_TAGS_MAX], *save = NULL;

	if (!*tags)
		return 0;
	snprintf(buf, sizeof buf, "%s", tags);
	if (tags[0] == ',' || tags[strlen(tags) - 1] == ',' || strstr(tags, ",,"))
		return bad(what, "empty tag");
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!lvm_tag_ok(t))
			return bad(what, "a tag outside the safe alphabet or too long");
	return 0;
}

static int lv_row(struct json_object *row, const char *vg, struct lvm_lv *lv)
{
	if (!json_object_is_type(row, json_type_object))
		return bad("lv", "a row is not an object");
	if (copy_str(row, "lv_name", lv->name, sizeof lv->name) < 0 ||
	    get_u64(row, "lv_size", &lv->size) < 0 ||
	    get_u64(row, "vg_extent_size", &lv->extent_size) < 0 ||
	    copy_str(row, "lv_attr", lv->attr, sizeof lv->attr) < 0 ||
	    copy_str(row, "lv_tags", lv->tags, sizeof lv->tags) < 0)
		return -1;
	if (!lvm_vg_name_ok(vg) || !lvm_lv_name_ok(vg, lv->name))
		return bad("lv_name", "not a valid LV name");
	if (!lv->extent_size)
		return bad("vg_extent_size", "zero");
	if (strlen(lv->attr) < 6)
		return bad("lv_attr", "shorter than 6 characters");
	lv->active = lv->attr[4] == 'a';
	lv->open = lv->attr[5] == 'o';
	return tags_ok("lv_tags", lv->tags);
}

int lvm_report_lvs(const char *text, bool cut, const char *vg, struct lvm_lv_list *out)
{
	struct json_object *doc = NULL, *rows;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (rows_of(text, cut, "lv", &doc, &rows) < 0)
		goto out;
	size_t n = json_object_array_length(rows);
	if (n && !(out->lv = calloc(n, sizeof *out->lv))) {
		rc = err_set(ENOMEM, "lvm report: %zu rows: out of memory", n);
		goto out;
	}
	for (out->n = 0; out->n < n; out->n++)
		if (lv_row(json_object_array_get_idx(rows, out->n), vg, &out->lv[out->n]) < 0)
			goto out;
	rc = 0;
out:
	if (rc < 0)
		lvm_lv_list_free(out);
	json_object_put(doc);
	return rc;
}

static int vg_row(struct json_object *row, struct lvm_vg *vg)
{
	if (!json_object_is_type(row, json_type_object))
		return bad("vg", "a row is not an object");
	if (copy_str(row, "vg_name", vg->name, sizeof vg->name) < 0 ||
	    get_u64(row, "vg_size", &vg->size) < 0 || get_u64(row, "vg_free", &vg->free) < 0 ||
	    get_u64(row, "vg_extent_size", &vg->extent_size) < 0 ||
	    get_u64(row, "lv_count", &vg->lv_count) < 0 ||
	    get_u64(row, "vg_mda_size", &vg->mda_size) < 0 ||
	    get_u64(row, "vg_mda_free", &vg->mda_free) < 0 ||
	    copy_str(row, "vg_tags", vg->tags, sizeof vg->tags) < 0)
		return -1;
	if (!lvm_vg_name_ok(vg->name))
		return bad("vg_name", "not a valid VG name");
	if (vg->free > vg->size || vg->mda_free > vg->mda_size || !vg->extent_size)
		return bad("vg", "sizes out of range");
	return tags_ok("vg_tags", vg->tags);
}

/* A report of exactly one row of kind, read by row(). */
static int one_row(const char *text, bool cut, const char *kind,
		   int (*row)(struct json_object *, void *), void *out)
{
	struct json_object *doc = NULL, *rows;
	int rc = -1;

	if (rows_of(text, cut, kind, &doc, &rows) < 0)
		goto out;
	if (json_object_array_length(rows) != 1) {
		rc = bad(kind, "not exactly one row");
		goto out;
	}
	rc = row(json_object_array_get_idx(rows, 0), out);
out:
	json_object_put(doc);
	return rc;
}

static int vg_row_any(struct json_object *row, void *out)
{
	return vg_row(row, out);
}

int lvm_report_vg(const char *text, bool cut, struct lvm_vg *out)
{
	memset(out, 0, sizeof *out);
	return one_row(text, cut, "vg", vg_row_any, out);
}

static int pv_row(struct json_object *row, struct lvm_pv *pv)
{
	if (!json_object_is_type(row, json_type_object))
		return bad("pv", "a row is not an object");
	if (copy_str(row, "pv_name", pv->name, sizeof pv->name) < 0 ||
	    copy_str(row, "vg_name", pv->vg, sizeof pv->vg) < 0 ||
	    get_u64(row, "pv_size", &pv->size) < 0)
		return -1;
	if (!lvm_dev_path_ok(pv->name))
		return bad("pv_name", "not a plain device path");
	if (pv->vg[0] && !lvm_vg_name_ok(pv->vg))
		return bad("vg_name", "not a valid VG name");
	return 0;
}

static int pv_row_any(struct json_object *row, void *out)
{
	return pv_row(row, out);
}

int lvm_report_pv(const char *text, bool cut, struct lvm_pv *out)
{
	memset(out, 0, sizeof *out);
	return one_row(text, cut, "pv", pv_row_any, out);
}

void lvm_lv_list_free(struct lvm_lv_list *l)
{
	free(l->lv);
	l->lv = NULL;
	l->n = 0;
}
