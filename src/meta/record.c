/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meta/record: one object <-> a record run.
 *
 * A record is a 32-byte header {magic, kind, uuid, payload length, crc32
 * over header and payload} followed by one XML element:
 *   <sr uuid generation volumes nodes journal><name/><description/></sr>
 *   <volume key uuid node sharable read-write><name/><description/>
 *     <keys><key><k/><v/></key>...</keys></volume>
 *   <node uuid [parent] hidden virtual-size image refs/>
 *   <record id op><arg><k/><v/></arg>...</record>
 * TEXT is verbatim when meta_str_is_xml_safe, else base64 with
 * enc="base64".  Parsing refuses any DTD (so no entity can expand), and
 * every value is range-checked: a record we did not write is EUCLEAN. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lq/b64.h"
#include "lq/err.h"
#include "lq/uuid.h"
#include "meta-int.h"

#define X(s) ((const xmlChar *)(s))

enum { R_MAGIC = 0, R_KIND = 4, R_UUID = 8, R_LEN = 24, R_CRC = 28 };

static int oom(void)
{
	return err_set(ENOMEM, "metadata record: out of memory");
}

/* ---- format ---- */

static int add_text(xmlNodePtr parent, const char *tag, const char *value)
{
	const char *v = value ? value : "";
	bool safe = meta_str_is_xml_safe(v);
	char *enc = NULL;
	xmlNodePtr n;

	if (!safe && !(enc = b64_encode(v, strlen(v))))
		return -1;
	n = xmlNewTextChild(parent, NULL, X(tag), X(safe ? v : enc));
	free(enc);
	if (!n)
		return oom();
	if (!safe && !xmlNewProp(n, X(META_ENC_ATTR), X(META_ENC_B64)))
		return oom();
	return 0;
}

static int add_prop(xmlNodePtr n, const char *name, const char *value)
{
	return xmlNewProp(n, X(name), X(value ? value : "")) ? 0 : oom();
}

static int add_u64(xmlNodePtr n, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return add_prop(n, name, buf);
}

static int add_bool(xmlNodePtr n, const char *name, bool v)
{
	return add_prop(n, name, v ? "true" : "false");
}

static int add_kvs(xmlNodePtr parent, const char *tag, const struct meta_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xmlNodePtr e = xmlNewChild(parent, NULL, X(tag), NULL);
		if (!e)
			return oom();
		if (add_text(e, "k", kv[i].k) < 0 || add_text(e, "v", kv[i].v) < 0)
			return -1;
	}
	return 0;
}

static int build_sr(xmlNodePtr n, const struct meta_sr *sr)
{
	if (add_prop(n, "uuid", sr->uuid) < 0 || add_u64(n, "generation", sr->generation) < 0 ||
	    add_u64(n, "volumes", sr->nvolumes) < 0 || add_u64(n, "nodes", sr->nnodes) < 0 ||
	    add_u64(n, "journal", sr->njournal) < 0)
		return -1;
	return add_text(n, "name", sr->name) < 0 ? -1 : add_text(n, "description", sr->description);
}

static int build_volume(xmlNodePtr n, const struct meta_volume *v)
{
	xmlNodePtr keys;

	if (add_prop(n, "key", v->key) < 0 || add_prop(n, "uuid", v->uuid) < 0 ||
	    add_prop(n, "node", v->node) < 0 || add_bool(n, "sharable", v->sharable) < 0 ||
	    add_bool(n, "read-write", v->read_write) < 0 || add_text(n, "name", v->name) < 0 ||
	    add_text(n, "description", v->description) < 0)
		return -1;
	if (!(keys = xmlNewChild(n, NULL, X("keys"), NULL)))
		return oom();
	return add_kvs(keys, "key", v->keys, v->nkeys);
}

static int build_node(xmlNodePtr n, const struct meta_node *nd)
{
	if (add_prop(n, "uuid", nd->uuid) < 0 || (nd->parent && add_prop(n, "parent", nd->parent) < 0) ||
	    add_bool(n, "hidden", nd->hidden) < 0 || add_u64(n, "virtual-size", nd->virtual_size) < 0 ||
	    add_prop(n, "image", nd->image) < 0 || add_u64(n, "refs", nd->refs) < 0)
		return -1;
	return 0;
}

static int build_journal(xmlNodePtr n, const struct meta_journal *j)
{
	if (add_prop(n, "id", j->id) < 0 || add_prop(n, "op", j->op) < 0)
		return -1;
	return add_kvs(n, "arg", j->args, j->nargs);
}

static const char *const tags[] = { [MK_SR] = "sr", [MK_VOLUME] = "volume", [MK_NODE] = "node",
				    [MK_JOURNAL] = "record" };

static int build(xmlNodePtr n, enum meta_kind kind, union meta_obj o)
{
	switch (kind) {
	case MK_SR: return build_sr(n, o.sr);
	case MK_VOLUME: return build_volume(n, o.vol);
	case MK_NODE: return build_node(n, o.node);
	default: return build_journal(n, o.jnl);
	}
}

int rec_format(enum meta_kind kind, union meta_obj o, char **payload, size_t *len)
{
	xmlDocPtr doc = xmlNewDoc(X("1.0"));
	xmlNodePtr root = doc ? xmlNewNode(NULL, X(tags[kind])) : NULL;
	xmlChar *mem = NULL;
	int size = 0, rc = -1;

	if (!root) {
		xmlFreeDoc(doc);
		return oom();
	}
	xmlDocSetRootElement(doc, root);
	if (build(root, kind, o) == 0) {
		xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
		if (!mem || size <= 0)
			rc = oom();
		else if ((size_t)size + META_REC_HDR > META_REC_MAX)
			rc = err_set(EFBIG, "metadata record of %d bytes exceeds %u bytes", size,
				     META_REC_MAX - META_REC_HDR);
		else if (!(*payload = malloc((size_t)size)))
			rc = oom();
		else {
			memcpy(*payload, mem, (size_t)size);
			*len = (size_t)size;
			rc = 0;
		}
	}
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}

uint32_t rec_blocks_for(size_t len)
{
	return (uint32_t)((len + META_REC_HDR + META_BLOCK - 1) / META_BLOCK);
}

void rec_image(unsigned char *run, enum meta_kind kind, const uint8_t uuid[16],
	       const char *payload, size_t len)
{
	memset(run, 0, META_REC_HDR);
	put32(run + R_MAGIC, META_RC_MAGIC);
	run[R_KIND] = (unsigned char)kind;
	memcpy(run + R_UUID, uuid, 16);
	put32(run + R_LEN, (uint32_t)len);
	memcpy(run + META_REC_HDR, payload, len);
	rec_seal(run, META_REC_HDR + len);
}

void rec_seal(unsigned char *run, size_t len)
{
	size_t plen = get32(run + R_LEN);

	if (plen > len - META_REC_HDR)
		plen = len - META_REC_HDR;
	put32(run + R_CRC, meta_crc(run, R_CRC, run + META_REC_HDR, plen));
}

/* ---- parse ---- */

static bool is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr found = NULL;

	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (is_elem(c, name)) {
			if (found) {
				err_corrupt("metadata record: two <%s> in <%s>", name, parent->name);
				return NULL;
			}
			found = c;
		}
	if (!found)
		err_corrupt("metadata record: <%s> lacks <%s>", parent->name, name);
	return found;
}

static int get_attr(xmlNodePtr n, const char *name, bool required, char **out)
{
	xmlChar *v = xmlGetNoNsProp(n, X(name));

	*out = NULL;
	if (!v)
		return required ? err_corrupt("metadata record: <%s> lacks %s", n->name, name) : 0;
	if (strlen((const char *)v) > META_STR_MAX) {
		xmlFree(v);
		return err_corrupt("metadata record: <%s %s> is too long", n->name, name);
	}
	*out = strdup((const char *)v);
	xmlFree(v);
	return *out ? 0 : oom();
}

static int get_uuid_attr(xmlNodePtr n, const char *name, bool required, char **out)
{
	if (get_attr(n, name, required, out) < 0)
		return -1;
	if (*out && !uuid_is_valid(*out)) {
		err_corrupt("metadata record: <%s %s='%.40s'> is not a uuid", n->name, name, *out);
		free(*out);
		*out = NULL;
		return -1;
	}
	/* Ids are found by their lowercase spelling: keep only that one, or
	 * one object would be cached twice and links would not resolve. */
	for (char *p = *out; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int get_bool_attr(xmlNodePtr n, const char *name, bool *out)
{
	char *v;
	int rc;

	if (get_attr(n, name, true, &v) < 0)
		return -1;
	rc = !strcmp(v, "true") ? (*out = true, 0) : !strcmp(v, "false") ? (*out = false, 0)
		: err_corrupt("metadata record: %s='%.20s' is not a boolean", name, v);
	free(v);
	return rc;
}

static int get_u64_attr(xmlNodePtr n, const char *name, uint64_t max, uint64_t *out)
{
	char *v, *end;
	int rc = 0;

	if (get_attr(n, name, true, &v) < 0)
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (!v[0] || *end || errno || v[0] < '0' || v[0] > '9' || *out > max)
		rc = err_corrupt("metadata record: %s='%.20s' is not a number in range", name, v);
	free(v);
	return rc;
}

static int text_decoded(xmlNodePtr n, const char *t, const char *enc, char **out)
{
	char *dec;
	size_t len;

	if (!enc) {
		*out = strdup(t);
		return *out ? 0 : oom();
	}
	if (strcmp(enc, META_ENC_B64) || b64_decode(t, &dec, &len) < 0)
		return err_corrupt("metadata record: bad encoded <%s>", n->name);
	if (strlen(dec) != len) {
		free(dec);
		return err_corrupt("metadata record: <%s> holds a NUL byte", n->name);
	}
	*out = dec;
	return 0;
}

static int get_text_of(xmlNodePtr n, char **out)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *enc = NULL;
	int rc;

	if (get_attr(n, META_ENC_ATTR, false, &enc) < 0) {
		xmlFree(t);
		return -1;
	}
	rc = text_decoded(n, t ? (const char *)t : "", enc, out);
	free(enc);
	xmlFree(t);
	if (rc == 0 && strlen(*out) > META_STR_MAX) {
		free(*out);
		*out = NULL;
		rc = err_corrupt("metadata record: <%s> is longer than %u bytes", n->name, META_STR_MAX);
	}
	return rc;
}

static int get_text(xmlNodePtr parent, const char *name, char **out)
{
	xmlNodePtr n = child(parent, name);

	return n ? get_text_of(n, out) : -1;
}

static int parse_kvs(xmlNodePtr parent, const char *tag, struct meta_kv **kv, size_t *n)
{
	for (xmlNodePtr c = parent->children; c; c = c->next) {
		struct meta_kv *grown;
		if (!is_elem(c, tag))
			continue;
		if (!(grown = realloc(*kv, (*n + 1) * sizeof *grown)))
			return oom();
		*kv = grown;
		grown[*n] = (struct meta_kv){ NULL, NULL };
		(*n)++;
		if (get_text(c, "k", &grown[*n - 1].k) < 0 || get_text(c, "v", &grown[*n - 1].v) < 0)
			return -1;
		for (size_t i = 0; i + 1 < *n; i++)
			if (!strcmp(grown[i].k, grown[*n - 1].k))
				return err_corrupt("metadata record: key '%.40s' twice", grown[i].k);
	}
	return 0;
}

static int same_uuid(const char *s, const uint8_t want[16])
{
	uint8_t u[16];

	if (meta_uuid_bin(s, u) < 0 || memcmp(u, want, 16))
		return err_corrupt("metadata record: %.40s is not the indexed object", s);
	return 0;
}

static int parse_sr(xmlNodePtr n, const uint8_t uuid[16], struct meta_sr *sr)
{
	char *u = NULL;
	int rc;

	rc = get_uuid_attr(n, "uuid", true, &u) < 0 || same_uuid(u, uuid) < 0 ||
	     get_u64_attr(n, "generation", META_U63_MAX, &sr->generation) < 0 ||
	     get_u64_attr(n, "volumes", META_U63_MAX, &sr->nvolumes) < 0 ||
	     get_u64_attr(n, "nodes", META_U63_MAX, &sr->nnodes) < 0 ||
	     get_u64_attr(n, "journal", META_U63_MAX, &sr->njournal) < 0 ||
	     get_text(n, "name", &sr->name) < 0 || get_text(n, "description", &sr->description) < 0
		     ? -1 : 0;
	free(u);
	if (rc == 0 && sr->generation == 0)
		rc = err_corrupt("metadata record: SR generation 0");
	return rc;
}

static int parse_volume(xmlNodePtr n, const uint8_t uuid[16], struct meta_volume *v)
{
	xmlNodePtr keys;

	if (get_uuid_attr(n, "key", true, &v->key) < 0 || same_uuid(v->key, uuid) < 0 ||
	    get_uuid_attr(n, "uuid", true, &v->uuid) < 0 || get_uuid_attr(n, "node", true, &v->node) < 0 ||
	    get_bool_attr(n, "sharable", &v->sharable) < 0 ||
	    get_bool_attr(n, "read-write", &v->read_write) < 0 || get_text(n, "name", &v->name) < 0 ||
	    get_text(n, "description", &v->description) < 0 || !(keys = child(n, "keys")))
		return -1;
	return parse_kvs(keys, "key", &v->keys, &v->nkeys);
}

/* [A-Za-z0-9][A-Za-z0-9._-]*: never a path, never "..". */
static bool image_name_ok(const char *s)
{
	if (!s[0] || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
		       (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return false;
	return strlen(s) < 256;
}

static int parse_node(xmlNodePtr n, const uint8_t uuid[16], struct meta_node *nd)
{
	if (get_uuid_attr(n, "uuid", true, &nd->uuid) < 0 || same_uuid(nd->uuid, uuid) < 0 ||
	    get_uuid_attr(n, "parent", false, &nd->parent) < 0 ||
	    get_bool_attr(n, "hidden", &nd->hidden) < 0 ||
	    get_u64_attr(n, "virtual-size", META_VSIZE_MAX, &nd->virtual_size) < 0 ||
	    get_attr(n, "image", true, &nd->image) < 0 ||
	    get_u64_attr(n, "refs", META_U63_MAX, &nd->refs) < 0)
		return -1;
	if (!image_name_ok(nd->image))
		return err_corrupt("metadata record: node %s has a bad image name", nd->uuid);
	if (nd->parent && !strcmp(nd->parent, nd->uuid))
		return err_corrupt("metadata record: node %s is its own parent", nd->uuid);
	return 0;
}

static int parse_journal(xmlNodePtr n, const uint8_t uuid[16], struct meta_journal *j)
{
	if (get_uuid_attr(n, "id", true, &j->id) < 0 || same_uuid(j->id, uuid) < 0 ||
	    get_attr(n, "op", true, &j->op) < 0)
		return -1;
	return parse_kvs(n, "arg", &j->args, &j->nargs);
}

static int parse_root(xmlNodePtr root, enum meta_kind kind, const uint8_t uuid[16], union meta_obj o)
{
	if (!is_elem(root, tags[kind]))
		return err_corrupt("metadata record: root is <%.40s>, not <%s>", root->name, tags[kind]);
	switch (kind) {
	case MK_SR: return parse_sr(root, uuid, o.sr);
	case MK_VOLUME: return parse_volume(root, uuid, o.vol);
	case MK_NODE: return parse_node(root, uuid, o.node);
	default: return parse_journal(root, uuid, o.jnl);
	}
}

/* No DTD may appear: without one no entity can be declared, so nothing
 * expands; refused before libxml2 sees the bytes, and checked again. */
static xmlDocPtr parse_xml(struct meta_area *a, const char *p, size_t len)
{
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	xmlDocPtr doc;

	if (memmem(p, len, "<!", 2)) {
		err_corrupt("metadata record: markup declaration (DTD, entity or CDATA) refused");
		return NULL;
	}
	if (a && !a->xml)
		a->xml = xmlNewParserCtxt();
	doc = a && a->xml ? xmlCtxtReadMemory(a->xml, p, (int)len, "record", "UTF-8", opts)
			  : xmlReadMemory(p, (int)len, "record", "UTF-8", opts);
	if (!doc || !xmlDocGetRootElement(doc) || doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		err_corrupt("metadata record: not well-formed XML");
		return NULL;
	}
	return doc;
}

void area_xml_free(struct meta_area *a)
{
	if (a->xml)
		xmlFreeParserCtxt(a->xml);
	a->xml = NULL;
}

static int check_header(const unsigned char *buf, size_t len, enum meta_kind kind,
			const uint8_t uuid[16], uint32_t *plen)
{
	if (len < META_REC_HDR || get32(buf + R_MAGIC) != META_RC_MAGIC)
		return err_corrupt("metadata record: bad magic");
	*plen = get32(buf + R_LEN);
	if (buf[R_KIND] != kind || memcmp(buf + R_UUID, uuid, 16))
		return err_corrupt("metadata record: kind or uuid differs from the index");
	if (*plen == 0 || *plen > len - META_REC_HDR)
		return err_corrupt("metadata record: length %u out of range", *plen);
	if (get32(buf + R_CRC) != meta_crc(buf, R_CRC, buf + META_REC_HDR, *plen))
		return err_corrupt("metadata record: checksum mismatch");
	return 0;
}

int rec_parse(struct meta_area *a, const unsigned char *buf, size_t len, enum meta_kind kind,
	      const uint8_t uuid[16], union meta_obj o)
{
	uint32_t plen = 0;
	xmlDocPtr doc;
	int rc;

	if (check_header(buf, len, kind, uuid, &plen) < 0 ||
	    !(doc = parse_xml(a, (const char *)buf + META_REC_HDR, plen)))
		return -1;
	rc = parse_root(xmlDocGetRootElement(doc), kind, uuid, o);
	xmlFreeDoc(doc);
	return rc;
}

/* Fuzzer entry: the header's own kind and uuid are taken as expected. */
int meta_record_try(const unsigned char *buf, size_t len)
{
	union meta_obj o;
	struct meta_sr sr = { 0 };
	int kind, rc;

	if (len < META_REC_HDR || buf[R_KIND] < MK_SR || buf[R_KIND] > MK_JOURNAL)
		return err_corrupt("metadata record: bad kind");
	kind = buf[R_KIND];
	if (kind == MK_SR)
		o.sr = &sr;
	else if (!(o.vol = calloc(1, sizeof(union { struct meta_volume v; struct meta_node n;
						    struct meta_journal j; }))))
		return oom();
	rc = rec_parse(NULL, buf, len, (enum meta_kind)kind, buf + R_UUID, o);
	if (kind == MK_SR) {
		free(sr.name);
		free(sr.description);
	} else if (kind == MK_VOLUME) {
		meta_volume_free(o.vol);
	} else if (kind == MK_NODE) {
		meta_node_free(o.node);
	} else {
		meta_journal_free(o.jnl);
	}
	return rc;
}
