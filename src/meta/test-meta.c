/* Unit tests of meta: round trips of the whole model, hostile strings,
 * and detection of torn or corrupt documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/err.h"
#include "lq/meta.h"

#define UNUSED __attribute__((unused))
#define SRU "0b1f3c2e-5d6a-4e7f-8a9b-0c1d2e3f4a5b"
#define K1 "11111111-2222-4333-8444-555555555555"
#define N1 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define N0 "99999999-8888-4777-8666-555555555555"

static const char *hostile[] = {
	"", " ", "  leading and trailing  ", "plain", "quotes \" and ' and `",
	"<tag attr=\"x\">&amp;</tag> ]]> <!-- c --> <?pi?>", "new\nline\ttab",
	"cr\r\nlf", "\x01\x02\x1f\x7f control", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	"bad utf8 \xff\xfe \xc3", "surrogate \xed\xa0\x80", "\xef\xbf\xbe nonchar",
	"$(rm -rf /); `id`; | & ;", "%s%n%x", "\\ backslash \\\\",
};

static struct meta_sr *sample(void)
{
	struct meta_sr *sr = meta_new(SRU, "sr name", "sr desc");
	struct meta_node *n0 = meta_node_add(sr, N0), *n1;
	struct meta_volume *v;
	struct meta_journal *j;

	meta_set_str(&n0->image, N0 ".qcow2");
	n0->hidden = true;
	n0->virtual_size = 1 << 20;
	n1 = meta_node_add(sr, N1); /* n0 is stale from here */
	meta_set_str(&n1->image, N1 ".qcow2");
	meta_set_str(&n1->parent, N0);
	n1->virtual_size = UINT64_C(16) << 40;
	v = meta_volume_add(sr, K1);
	meta_set_str(&v->uuid, K1);
	meta_set_str(&v->node, N1);
	meta_set_str(&v->name, "vol");
	meta_set_str(&v->description, "");
	v->read_write = true;
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		char k[32];
		snprintf(k, sizeof k, "k%zu", i);
		assert_int_equal(meta_volume_set_key(v, k, hostile[i]), 0);
		assert_int_equal(meta_volume_set_key(v, hostile[i][0] ? hostile[i] : "empty", k), 0);
	}
	j = meta_journal_add(sr, "j1", "coalesce");
	meta_journal_set_arg(j, "node", N1);
	sr->generation = 42;
	return sr;
}

static void assert_same(const struct meta_sr *a, const struct meta_sr *b)
{
	assert_string_equal(a->uuid, b->uuid);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->description, b->description);
	assert_int_equal(a->generation, b->generation);
	assert_int_equal(a->nvolumes, b->nvolumes);
	assert_int_equal(a->nnodes, b->nnodes);
	assert_int_equal(a->njournal, b->njournal);
	for (size_t i = 0; i < a->nvolumes; i++) {
		const struct meta_volume *x = &a->volumes[i], *y = &b->volumes[i];
		assert_string_equal(x->key, y->key);
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->description, y->description);
		assert_string_equal(x->node, y->node);
		assert_int_equal(x->read_write, y->read_write);
		assert_int_equal(x->sharable, y->sharable);
		assert_int_equal(x->nkeys, y->nkeys);
		for (size_t k = 0; k < x->nkeys; k++) {
			assert_string_equal(x->keys[k].k, y->keys[k].k);
			assert_string_equal(x->keys[k].v, y->keys[k].v);
		}
	}
	for (size_t i = 0; i < a->nnodes; i++) {
		assert_string_equal(a->nodes[i].uuid, b->nodes[i].uuid);
		assert_int_equal(a->nodes[i].hidden, b->nodes[i].hidden);
		assert_int_equal(a->nodes[i].virtual_size, b->nodes[i].virtual_size);
		assert_string_equal(a->nodes[i].image, b->nodes[i].image);
		if (a->nodes[i].parent)
			assert_string_equal(a->nodes[i].parent, b->nodes[i].parent);
		else
			assert_null(b->nodes[i].parent);
	}
	assert_string_equal(a->journal[0].op, b->journal[0].op);
	assert_string_equal(a->journal[0].args[0].v, b->journal[0].args[0].v);
}

static struct meta_sr *round_trip(const struct meta_sr *sr, char **doc, size_t *len)
{
	struct meta_sr *back = NULL;

	assert_int_equal(meta_format(sr, doc, len), 0);
	assert_int_equal(meta_parse(*doc, *len, &back), 0);
	return back;
}

static void test_round_trip(void **s UNUSED)
{
	struct meta_sr *sr = sample(), *back;
	char *doc;
	size_t len;

	back = round_trip(sr, &doc, &len);
	assert_same(sr, back);
	/* a second round trip is byte-identical */
	char *doc2;
	size_t len2;
	struct meta_sr *back2 = round_trip(back, &doc2, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(doc, doc2, len);
	free(doc);
	free(doc2);
	meta_free(sr);
	meta_free(back);
	meta_free(back2);
}

static void test_hostile_names(void **s UNUSED)
{
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		struct meta_sr *sr = meta_new(SRU, hostile[i], hostile[i]), *back;
		char *doc;
		size_t len;
		back = round_trip(sr, &doc, &len);
		assert_string_equal(back->name, hostile[i]);
		assert_string_equal(back->description, hostile[i]);
		free(doc);
		meta_free(sr);
		meta_free(back);
	}
}

static void test_huge_value(void **s UNUSED)
{
	size_t n = 1u << 20;
	char *big = malloc(n + 1);
	struct meta_sr *sr = sample(), *back;
	char *doc;
	size_t len;

	for (size_t i = 0; i < n; i++)
		big[i] = (char)(1 + i % 255);
	big[n] = '\0';
	meta_volume_set_key(&sr->volumes[0], "big", big);
	meta_set_str(&sr->volumes[0].name, big);
	back = round_trip(sr, &doc, &len);
	assert_string_equal(meta_volume_get_key(&back->volumes[0], "big"), big);
	assert_string_equal(back->volumes[0].name, big);
	free(big);
	free(doc);
	meta_free(sr);
	meta_free(back);
}

static void expect_corrupt(const char *doc, size_t len)
{
	struct meta_sr *out = NULL;

	err_clear();
	assert_int_equal(meta_parse(doc, len, &out), -1);
	assert_null(out);
	assert_int_equal(err_last()->errnum, EUCLEAN);
}

static void test_torn_and_corrupt(void **s UNUSED)
{
	struct meta_sr *sr = sample();
	char *doc;
	size_t len;

	assert_int_equal(meta_format(sr, &doc, &len), 0);
	/* every truncation is detected (a torn write) */
	for (size_t cut = 0; cut < len; cut += (cut < 64 || len - cut < 64) ? 1 : 97)
		expect_corrupt(doc, cut);
	/* every single flipped bit is detected */
	for (size_t i = 0; i < len; i += 7) {
		doc[i] ^= 0x10;
		expect_corrupt(doc, len);
		doc[i] ^= 0x10;
	}
	expect_corrupt("", 0);
	free(doc);
	meta_free(sr);
}

/* A document with a valid checksum but broken references is refused. */
static void test_bad_links(void **s UNUSED)
{
	struct meta_sr *sr = sample();
	char *doc;
	size_t len;

	meta_set_str(&sr->volumes[0].node, "12345678-1234-4234-8234-123456789012");
	assert_int_equal(meta_format(sr, &doc, &len), 0);
	expect_corrupt(doc, len);
	free(doc);
	meta_set_str(&sr->volumes[0].node, N1);
	meta_set_str(&sr->nodes[1].uuid, "not-a-uuid"); /* refused, nothing leaked */
	assert_int_equal(meta_format(sr, &doc, &len), 0);
	expect_corrupt(doc, len);
	free(doc);
	meta_set_str(&sr->nodes[1].uuid, N1);
	meta_set_str(&sr->nodes[0].parent, N1); /* cycle N0 <-> N1 */
	assert_int_equal(meta_format(sr, &doc, &len), 0);
	expect_corrupt(doc, len);
	free(doc);
	meta_free(sr);
}

static void test_model(void **s UNUSED)
{
	struct meta_sr *sr = sample();

	assert_true(meta_node_referenced(sr, N0));
	assert_true(meta_image_known(sr, N1 ".qcow2"));
	meta_volume_unset_key(&sr->volumes[0], "k0");
	assert_null(meta_volume_get_key(&sr->volumes[0], "k0"));
	meta_volume_unset_key(&sr->volumes[0], "never set");
	assert_int_equal(meta_volume_remove(sr, K1), 0);
	assert_false(meta_node_referenced(sr, N0));
	assert_int_equal(meta_volume_remove(sr, K1), -1);
	assert_false(meta_str_is_xml_safe("a\rb"));
	assert_false(meta_str_is_xml_safe("\x01"));
	assert_true(meta_str_is_xml_safe("tab\tnl\n \xc3\xa9"));
	meta_free(sr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_huge_value),
		cmocka_unit_test(test_torn_and_corrupt),
		cmocka_unit_test(test_bad_links),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
