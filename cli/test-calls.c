/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the call tables (lq/entry.h): every row is complete and
 * well-formed for the IDL, names are unique as xapi-storage-script looks
 * them up, and the features follow the calls the way xapi expects. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "lq/entry.h"

/* A schema longer than this is a missing terminator. */
#define MAX_FIELDS 32

#define FOR_EACH_ENTRY(e)                                                      \
	for (const struct entry *const *t_##e = entry_tables; *t_##e; t_##e++) \
		for (const struct entry *e = *t_##e; e->name; e++)

/* The IDL's namespaces per plugin kind (xen-api
 * ocaml/xapi-storage/generator/lib: plugin.ml, control.ml, data.ml). */
static bool namespace_ok(const char *ns, size_t n, enum entry_kind k)
{
	static const char *const volume[] = { "Plugin", "SR", "Volume", NULL };
	static const char *const datapath[] = { "Plugin", "Datapath", "Data", NULL };
	const char *const *list = k == ENTRY_VOLUME ? volume : datapath;

	for (; *list; list++)
		if (strlen(*list) == n && !strncmp(*list, ns, n))
			return true;
	return false;
}

/* Method names of the IDL are lowercase words joined by '_'. */
static bool method_ok(const char *m)
{
	if (!islower((unsigned char)*m))
		return false;
	for (; *m; m++)
		if (!islower((unsigned char)*m) && *m != '_')
			return false;
	return m[-1] != '_';
}

static bool name_ok(const char *name, enum entry_kind k)
{
	const char *dot = strchr(name, '.');

	return dot && namespace_ok(name, (size_t)(dot - name), k) && method_ok(dot + 1);
}

/* "VDI_CREATE", "VDI_RESET_ON_BOOT/2" (smint.ml's FEATURE/N). */
static bool feature_ok(const char *f)
{
	const char *p = f;

	if (!isupper((unsigned char)*p))
		return false;
	while (isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')
		p++;
	if (*p == '/' && isdigit((unsigned char)p[1]))
		for (p++; isdigit((unsigned char)*p); p++)
			;
	return *p == '\0';
}

static void check_schema(const struct entry *e)
{
	const struct rpc_field *s = e->schema;
	size_t n = 0;

	assert_non_null(s);
	assert_string_equal(s[0].name, "dbg");
	assert_int_equal(s[0].type, RPC_STRING);
	for (; s[n].name; n++) {
		assert_true(n < MAX_FIELDS);
		assert_true(islower((unsigned char)s[n].name[0]));
		for (const char *c = s[n].name; *c; c++) /* "key2" of Volume.compose */
			assert_true(islower((unsigned char)*c) || isdigit((unsigned char)*c) ||
				    *c == '_');
		for (size_t j = 0; j < n; j++)
			assert_true(strcasecmp(s[j].name, s[n].name) != 0);
	}
}

static void check_entry(const struct entry *e)
{
	unsigned all = ENTRY_KIND(ENTRY_NKINDS) - 1;

	assert_non_null(e->fn);
	assert_true(e->kinds != 0 && (e->kinds & ~all) == 0);
	for (int k = 0; k < ENTRY_NKINDS; k++)
		if (e->kinds & ENTRY_KIND(k))
			assert_true(name_ok(e->name, (enum entry_kind)k));
	if (e->alias) {
		assert_true(strcasecmp(e->alias, e->name) == 0);
		assert_true(strcmp(e->alias, e->name) != 0);
	}
	check_schema(e);
	for (int i = 0; i < ENTRY_MAX_CALL_FEATURES && e->features[i].name; i++) {
		assert_true(feature_ok(e->features[i].name));
		assert_true(e->features[i].by < ENTRY_NKINDS);
	}
}

static void test_rows_complete(void **state)
{
	size_t n = 0;

	FOR_EACH_ENTRY(e) {
		check_entry(e);
		n++;
	}
	assert_true(n > 0);
}

/* xapi-storage-script finds scripts case-insensitively: two names that
 * differ only in case would be one call. */
static void test_names_unique(void **state)
{
	FOR_EACH_ENTRY(a) {
		FOR_EACH_ENTRY(b) {
			if (a == b || !(a->kinds & b->kinds))
				continue;
			assert_true(strcasecmp(a->name, b->name) != 0);
		}
	}
}

static void upper(const char *s, char *out, size_t n)
{
	size_t i = 0;

	for (; s[i] && i + 1 < n; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

static void test_find(void **state)
{
	char caps[128];

	FOR_EACH_ENTRY(e) {
		upper(e->name, caps, sizeof caps);
		for (int k = 0; k < ENTRY_NKINDS; k++) {
			bool mine = e->kinds & ENTRY_KIND(k);
			const struct entry *found = entry_find((enum entry_kind)k, e->name);
			assert_true(mine ? found == e : found != e);
			if (mine) {
				assert_ptr_equal(entry_find((enum entry_kind)k, caps), e);
				if (e->alias)
					assert_ptr_equal(entry_find((enum entry_kind)k, e->alias), e);
			}
		}
	}
	assert_null(entry_find(ENTRY_VOLUME, "Volume.no_such_call"));
	assert_null(entry_find(ENTRY_VOLUME, "Datapath.attach"));
	assert_null(entry_find(ENTRY_DATAPATH, "SR.create"));
	assert_null(entry_find(ENTRY_VOLUME, ""));
}

static bool declares(enum entry_kind k, const char *feature)
{
	const char *f[ENTRY_MAX_FEATURES];
	size_t n = entry_features(k, f);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i], feature))
			return true;
	return false;
}

/* Every feature a row implies is declared by the kind it names, once. */
static void test_features_from_rows(void **state)
{
	for (int k = 0; k < ENTRY_NKINDS; k++) {
		const char *f[ENTRY_MAX_FEATURES];
		size_t n = entry_features((enum entry_kind)k, f);
		for (size_t i = 0; i < n; i++) {
			assert_true(feature_ok(f[i]));
			for (size_t j = 0; j < i; j++)
				assert_string_not_equal(f[i], f[j]);
		}
	}
	FOR_EACH_ENTRY(e) {
		for (int i = 0; i < ENTRY_MAX_CALL_FEATURES && e->features[i].name; i++)
			assert_true(declares(e->features[i].by, e->features[i].name));
	}
}

static bool implied_by_a_call(const char *feature)
{
	FOR_EACH_ENTRY(e) {
		for (int i = 0; i < ENTRY_MAX_CALL_FEATURES && e->features[i].name; i++)
			if (!strcmp(e->features[i].name, feature))
				return true;
	}
	return false;
}

/* A feature declared beside the tables is one no call implies: a call's
 * feature has its one declaration in the call's row. */
static void test_extra_features(void **state)
{
	for (const struct entry_feature *const *l = entry_feature_lists; *l; l++)
		for (const struct entry_feature *f = *l; f->name; f++) {
			assert_true(feature_ok(f->name));
			assert_true(f->by < ENTRY_NKINDS);
			assert_false(implied_by_a_call(f->name));
			assert_true(declares(f->by, f->name));
		}
}

/* xapi-storage-script adds a capability when the script exists
 * (ocaml/xapi-storage-script/main.ml, Query.query); a volume plugin that
 * installs the script must declare the feature itself (so Plugin.query
 * tells the truth to every caller), and must not declare it without the
 * script.  VDI_DELETE is declared as VDI_DESTROY. */
static void test_capabilities_match_calls(void **state)
{
	static const char *const map[][2] = {
		{ "SR.attach", "SR_ATTACH" }, { "SR.create", "SR_CREATE" },
		{ "SR.destroy", "SR_DELETE" }, { "SR.detach", "SR_DETACH" },
		{ "SR.ls", "SR_SCAN" }, { "SR.stat", "SR_UPDATE" }, { "SR.probe", "SR_PROBE" },
		{ "Volume.create", "VDI_CREATE" }, { "Volume.clone", "VDI_CLONE" },
		{ "Volume.snapshot", "VDI_SNAPSHOT" }, { "Volume.resize", "VDI_RESIZE" },
		{ "Volume.destroy", "VDI_DESTROY" }, { "Volume.stat", "VDI_UPDATE" },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		bool installed = entry_find(ENTRY_VOLUME, map[i][0]) != NULL;
		assert_int_equal(installed, declares(ENTRY_VOLUME, map[i][1]));
	}
}

/* Each kind has a plugin directory, and each plugin answers
 * Plugin.query, which xapi-storage-script calls to register it. */
static void test_dirs(void **state)
{
	for (int k = 0; k < ENTRY_NKINDS; k++) {
		bool found = false;
		for (const struct entry_dir *d = entry_dirs; d->path; d++)
			found |= d->kind == (enum entry_kind)k &&
				 !strncmp(d->path, entry_kind_name(d->kind),
					  strlen(entry_kind_name(d->kind)));
		assert_true(found);
		assert_non_null(entry_find((enum entry_kind)k, "Plugin.query"));
		assert_int_equal(entry_kind_parse(entry_kind_name((enum entry_kind)k)), k);
	}
	assert_int_equal(entry_kind_parse("plugin"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_complete),
		cmocka_unit_test(test_names_unique),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_features_from_rows),
		cmocka_unit_test(test_extra_features),
		cmocka_unit_test(test_capabilities_match_calls),
		cmocka_unit_test(test_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
