/* meta/format: the model to XML bytes with the crc32 trailer. */
#include <inttypes.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lq/b64.h"
#include "lq/err.h"
#include "lq/meta.h"
#include "meta-int.h"

#define X(s) ((const xmlChar *)(s))

static int oom(void)
{
	return err_set(ENOMEM, "metadata document: out of memory");
}

/* <tag>value</tag>, base64 when XML cannot carry value verbatim. */
static int add_text(xmlNodePtr parent, const char *tag, const char *value)
{
	bool safe = meta_str_is_xml_safe(value ? value : "");
	char *enc = NULL;
	xmlNodePtr n;

	if (!safe && !(enc = b64_encode(value, strlen(value))))
		return -1;
	n = xmlNewTextChild(parent, NULL, X(tag), X(safe ? (value ? value : "") : enc));
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

static int add_kvs(xmlNodePtr parent, const char *tag, const struct meta_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xmlNodePtr e = xmlNewChild(parent, NULL, X(tag), NULL);
		if (!e || add_text(e, "k", kv[i].k) < 0 || add_text(e, "v", kv[i].v) < 0)
			return e ? -1 : oom();
	}
	return 0;
}

static int add_volume(xmlNodePtr parent, const struct meta_volume *v)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, X("volume"), NULL), keys;

	if (!n)
		return oom();
	if (add_prop(n, "key", v->key) < 0 || add_prop(n, "uuid", v->uuid) < 0 ||
	    add_prop(n, "node", v->node) < 0 ||
	    add_prop(n, "sharable", v->sharable ? "true" : "false") < 0 ||
	    add_prop(n, "read-write", v->read_write ? "true" : "false") < 0 ||
	    add_text(n, "name", v->name) < 0 || add_text(n, "description", v->description) < 0)
		return -1;
	if (!(keys = xmlNewChild(n, NULL, X("keys"), NULL)))
		return oom();
	return add_kvs(keys, "key", v->keys, v->nkeys);
}

static int add_node(xmlNodePtr parent, const struct meta_node *nd)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, X("node"), NULL);

	if (!n)
		return oom();
	if (add_prop(n, "uuid", nd->uuid) < 0 ||
	    (nd->parent && add_prop(n, "parent", nd->parent) < 0) ||
	    add_prop(n, "hidden", nd->hidden ? "true" : "false") < 0 ||
	    add_u64(n, "virtual-size", nd->virtual_size) < 0 || add_prop(n, "image", nd->image) < 0)
		return -1;
	return 0;
}

static int add_record(xmlNodePtr parent, const struct meta_journal *j)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, X("record"), NULL);

	if (!n)
		return oom();
	if (add_prop(n, "id", j->id) < 0 || add_prop(n, "op", j->op) < 0)
		return -1;
	return add_kvs(n, "arg", j->args, j->nargs);
}

static xmlNodePtr add_list(xmlNodePtr root, const char *tag)
{
	xmlNodePtr n = xmlNewChild(root, NULL, X(tag), NULL);

	if (!n)
		oom();
	return n;
}

static int build(xmlNodePtr root, const struct meta_sr *sr)
{
	xmlNodePtr vols, nodes, jnl;

	if (add_u64(root, "version", (uint64_t)sr->version) < 0 ||
	    add_u64(root, "generation", sr->generation) < 0 || add_prop(root, "uuid", sr->uuid) < 0 ||
	    add_text(root, "name", sr->name) < 0 || add_text(root, "description", sr->description) < 0)
		return -1;
	if (!(vols = add_list(root, "volumes")) || !(nodes = add_list(root, "nodes")) ||
	    !(jnl = add_list(root, "journal")))
		return -1;
	for (size_t i = 0; i < sr->nvolumes; i++)
		if (add_volume(vols, &sr->volumes[i]) < 0)
			return -1;
	for (size_t i = 0; i < sr->nnodes; i++)
		if (add_node(nodes, &sr->nodes[i]) < 0)
			return -1;
	for (size_t i = 0; i < sr->njournal; i++)
		if (add_record(jnl, &sr->journal[i]) < 0)
			return -1;
	return 0;
}

static int append_trailer(xmlChar *mem, int size, char **buf, size_t *len)
{
	size_t n = (size_t)size;
	char *out = malloc(n + META_TRAILER_LEN + 1);
	unsigned long crc;

	if (!out)
		return oom();
	memcpy(out, mem, n);
	crc = crc32(0L, (const Bytef *)out, (uInt)n);
	snprintf(out + n, META_TRAILER_LEN + 1, META_TRAILER_FMT, crc);
	*buf = out;
	*len = n + META_TRAILER_LEN;
	return 0;
}

int meta_format(const struct meta_sr *sr, char **buf, size_t *len)
{
	xmlDocPtr doc = xmlNewDoc(X("1.0"));
	xmlNodePtr root = doc ? xmlNewNode(NULL, X(META_ROOT)) : NULL;
	xmlChar *mem = NULL;
	int size = 0, rc = -1;

	if (!root) {
		xmlFreeDoc(doc);
		return oom();
	}
	xmlDocSetRootElement(doc, root);
	if (build(root, sr) == 0) {
		xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
		rc = mem && size > 0 && (unsigned)size < META_MAX_BYTES - META_TRAILER_LEN
			     ? append_trailer(mem, size, buf, len)
			     : err_set(EFBIG, "metadata document: cannot serialise");
	}
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}
