/* meta/parse: XML bytes to the model.  The crc32 trailer is checked
 * before libxml2 sees a byte, then the tree is validated strictly: a
 * document we did not write whole is reported (EUCLEAN), never used. */
#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lq/b64.h"
#include "lq/err.h"
#include "lq/meta.h"
#include "lq/uuid.h"
#include "meta-int.h"

#define X(s) ((const xmlChar *)(s))

static int check_trailer(const char *buf, size_t len, size_t *body)
{
	char want[META_TRAILER_LEN + 1];
	unsigned long crc;

	if (len < META_TRAILER_LEN || memcmp(buf + len - META_TRAILER_LEN, META_TRAILER_PREFIX,
					     strlen(META_TRAILER_PREFIX)))
		return err_corrupt("metadata document: checksum trailer missing (torn write?)");
	*body = len - META_TRAILER_LEN;
	crc = crc32(0L, (const Bytef *)buf, (uInt)*body);
	snprintf(want, sizeof want, META_TRAILER_FMT, crc);
	if (memcmp(want, buf + *body, META_TRAILER_LEN))
		return err_corrupt("metadata document: checksum mismatch (expected %.8s)", want + 11);
	return 0;
}

static bool is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The only element child named name, or NULL (error recorded). */
static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr found = NULL;

	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (is_elem(c, name)) {
			if (found) {
				err_corrupt("metadata document: two <%s> in <%s>", name, parent->name);
				return NULL;
			}
			found = c;
		}
	if (!found)
		err_corrupt("metadata document: <%s> lacks <%s>", parent->name, name);
	return found;
}

static int get_attr(xmlNodePtr n, const char *name, bool required, char **out)
{
	xmlChar *v = xmlGetProp(n, X(name));

	*out = NULL;
	if (!v)
		return required ? err_corrupt("metadata document: <%s> lacks %s", n->name, name) : 0;
	*out = strdup((const char *)v);
	xmlFree(v);
	return *out ? 0 : err_set(ENOMEM, "out of memory");
}

static int get_uuid_attr(xmlNodePtr n, const char *name, bool required, char **out)
{
	if (get_attr(n, name, required, out) < 0)
		return -1;
	if (*out && !uuid_is_valid(*out)) {
		err_corrupt("metadata document: <%s %s='%.40s'> is not a uuid", n->name, name, *out);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int get_bool_attr(xmlNodePtr n, const char *name, bool *out)
{
	char *v;
	int rc;

	if (get_attr(n, name, true, &v) < 0)
		return -1;
	rc = !strcmp(v, "true") ? (*out = true, 0) : !strcmp(v, "false") ? (*out = false, 0)
		: err_corrupt("metadata document: %s='%.20s' is not a boolean", name, v);
	free(v);
	return rc;
}

static int get_u64_attr(xmlNodePtr n, const char *name, uint64_t *out)
{
	char *v, *end;
	int rc = 0;

	if (get_attr(n, name, true, &v) < 0)
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (!v[0] || *end || errno || v[0] == '-')
		rc = err_corrupt("metadata document: %s='%.20s' is not a number", name, v);
	free(v);
	return rc;
}

/* Text of <name> (plain or base64), a malloc'd string without NULs. */
static int get_text_of(xmlNodePtr n, char **out)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *enc = NULL, *dec;
	size_t len;
	int rc = 0;

	if (!t)
		t = xmlStrdup(X(""));
	if (get_attr(n, META_ENC_ATTR, false, &enc) < 0) {
		xmlFree(t);
		return -1;
	}
	if (!enc) {
		*out = strdup((const char *)t);
		rc = *out ? 0 : err_set(ENOMEM, "out of memory");
	} else if (strcmp(enc, META_ENC_B64) || b64_decode((const char *)t, &dec, &len) < 0) {
		rc = err_corrupt("metadata document: bad encoded <%s>", n->name);
	} else if (strlen(dec) != len) {
		free(dec);
		rc = err_corrupt("metadata document: <%s> holds a NUL byte", n->name);
	} else {
		*out = dec;
	}
	free(enc);
	xmlFree(t);
	return rc;
}

static int get_text(xmlNodePtr parent, const char *name, char **out)
{
	xmlNodePtr n = child(parent, name);

	return n ? get_text_of(n, out) : -1;
}

static int parse_kvs(xmlNodePtr parent, const char *tag,
		     int (*set)(void *, const char *, const char *), void *obj)
{
	for (xmlNodePtr c = parent->children; c; c = c->next) {
		char *k = NULL, *v = NULL;
		int rc;
		if (!is_elem(c, tag))
			continue;
		rc = get_text(c, "k", &k) < 0 || get_text(c, "v", &v) < 0 ? -1 : set(obj, k, v);
		free(k);
		free(v);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int set_volume_key(void *obj, const char *k, const char *v)
{
	struct meta_volume *vol = obj;

	if (meta_volume_get_key(vol, k))
		return err_corrupt("metadata document: key '%.40s' twice in volume %s", k, vol->key);
	return meta_volume_set_key(vol, k, v);
}

static int set_journal_arg(void *obj, const char *k, const char *v)
{
	return meta_journal_set_arg(obj, k, v);
}

static int parse_volume(struct meta_sr *sr, xmlNodePtr n)
{
	char *key;
	struct meta_volume *v;
	xmlNodePtr keys;

	if (get_uuid_attr(n, "key", true, &key) < 0)
		return -1;
	v = meta_volume_find(sr, key) ? NULL : meta_volume_add(sr, key);
	if (!v) {
		int rc = err_corrupt("metadata document: volume %s twice", key);
		free(key);
		return rc;
	}
	free(key);
	if (get_uuid_attr(n, "uuid", true, &v->uuid) < 0 || get_uuid_attr(n, "node", true, &v->node) < 0 ||
	    get_bool_attr(n, "sharable", &v->sharable) < 0 ||
	    get_bool_attr(n, "read-write", &v->read_write) < 0 ||
	    get_text(n, "name", &v->name) < 0 || get_text(n, "description", &v->description) < 0 ||
	    !(keys = child(n, "keys")))
		return -1;
	return parse_kvs(keys, "key", set_volume_key, v);
}

static int parse_node(struct meta_sr *sr, xmlNodePtr n)
{
	char *uuid;
	struct meta_node *nd;

	if (get_uuid_attr(n, "uuid", true, &uuid) < 0)
		return -1;
	nd = meta_node_find(sr, uuid) ? NULL : meta_node_add(sr, uuid);
	if (!nd) {
		int rc = err_corrupt("metadata document: node %s twice", uuid);
		free(uuid);
		return rc;
	}
	free(uuid);
	if (get_uuid_attr(n, "parent", false, &nd->parent) < 0 ||
	    get_bool_attr(n, "hidden", &nd->hidden) < 0 ||
	    get_u64_attr(n, "virtual-size", &nd->virtual_size) < 0 ||
	    get_attr(n, "image", true, &nd->image) < 0)
		return -1;
	return 0;
}

static int parse_record(struct meta_sr *sr, xmlNodePtr n)
{
	char *id, *op;
	struct meta_journal *j = NULL;

	if (get_attr(n, "id", true, &id) < 0)
		return -1;
	if (get_attr(n, "op", true, &op) == 0)
		j = meta_journal_add(sr, id, op);
	free(id);
	free(op);
	return j ? parse_kvs(n, "arg", set_journal_arg, j) : -1;
}

static int parse_list(struct meta_sr *sr, xmlNodePtr root, const char *list, const char *item,
		      int (*fn)(struct meta_sr *, xmlNodePtr))
{
	xmlNodePtr l = child(root, list);

	if (!l)
		return -1;
	for (xmlNodePtr c = l->children; c; c = c->next)
		if (is_elem(c, item) && fn(sr, c) < 0)
			return -1;
	return 0;
}

/* Every reference must resolve; a volume's chain must end (no cycle). */
static int check_links(struct meta_sr *sr)
{
	for (size_t i = 0; i < sr->nnodes; i++) {
		const char *p = sr->nodes[i].parent;
		if (p && !meta_node_find(sr, p))
			return err_corrupt("metadata document: node %s has unknown parent %s",
					   sr->nodes[i].uuid, p);
	}
	for (size_t i = 0; i < sr->nvolumes; i++) {
		struct meta_node *n = meta_node_find(sr, sr->volumes[i].node);
		size_t depth = 0;
		if (!n)
			return err_corrupt("metadata document: volume %s has unknown node",
					   sr->volumes[i].key);
		for (; n && n->parent; n = meta_node_find(sr, n->parent))
			if (++depth > sr->nnodes)
				return err_corrupt("metadata document: cycle in nodes of %s",
						   sr->volumes[i].key);
	}
	return 0;
}

static int parse_root(struct meta_sr *sr, xmlNodePtr root)
{
	uint64_t version;

	if (!is_elem(root, META_ROOT))
		return err_corrupt("metadata document: root is <%s>", root->name);
	if (get_u64_attr(root, "version", &version) < 0)
		return -1;
	if (version != META_VERSION)
		return err_corrupt("metadata document: unsupported version %" PRIu64, version);
	sr->version = (int)version;
	if (get_u64_attr(root, "generation", &sr->generation) < 0 ||
	    get_uuid_attr(root, "uuid", true, &sr->uuid) < 0 ||
	    get_text(root, "name", &sr->name) < 0 || get_text(root, "description", &sr->description) < 0 ||
	    parse_list(sr, root, "nodes", "node", parse_node) < 0 ||
	    parse_list(sr, root, "volumes", "volume", parse_volume) < 0 ||
	    parse_list(sr, root, "journal", "record", parse_record) < 0)
		return -1;
	return check_links(sr);
}

int meta_parse(const char *buf, size_t len, struct meta_sr **out)
{
	struct meta_sr *sr;
	xmlDocPtr doc;
	size_t body = 0;
	int rc;

	if (len > META_MAX_BYTES)
		return err_corrupt("metadata document: %zu bytes is too large", len);
	if (check_trailer(buf, len, &body) < 0)
		return -1;
	doc = xmlReadMemory(buf, (int)body, "metadata.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
	if (!doc || !xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		return err_corrupt("metadata document: not well-formed XML");
	}
	sr = calloc(1, sizeof *sr);
	rc = sr ? parse_root(sr, xmlDocGetRootElement(doc)) : err_set(ENOMEM, "out of memory");
	xmlFreeDoc(doc);
	if (rc < 0) {
		meta_free(sr);
		return -1;
	}
	*out = sr;
	return 0;
}
