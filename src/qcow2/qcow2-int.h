/* qcow2-int.h: private interface shared by the files of src/qcow2/.
 *
 * On-disk header (big-endian), as decoded by header.c:
 *   OFFSET SIZE  FIELD
 *   0      4     magic "QFI\xfb"
 *   4      4     version (2 or 3)
 *   8      8     backing_file_offset
 *   16     4     backing_file_size (<= 1023)
 *   20     4     cluster_bits (9..21)
 *   24     8     size (virtual)
 *   32     4     crypt_method (only 0 is supported)
 *   36     4     l1_size
 *   40     8     l1_table_offset
 *   48     8     refcount_table_offset
 *   56     4     refcount_table_clusters
 *   60     4     nb_snapshots
 *   64     8     snapshots_offset
 *   72     8     incompatible_features      (v3 from here)
 *   80     8     compatible_features
 *   88     8     autoclear_features
 *   96     4     refcount_order
 *   100    4     header_length
 *   104    1     compression_type (if header_length > 104)
 */
#ifndef LQ_QCOW2_INT_H
#define LQ_QCOW2_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "lq/qcow2.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS (1ull << 0)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u
#define QCOW2_EXT_HIDDEN 0x76617465u /* XCP-ng "vate": 8 bytes, flag in byte 0 */

#define QCOW2_L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_REFT_OFFSET_MASK 0xfffffffffffffe00ull
#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO (1ull << 0)
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_MAX_HOST_OFFSET (1ull << 56)

/* One header extension, as found (unknown ones are kept byte for byte). */
struct qcow2_ext {
	uint32_t type;
	uint32_t len;
	uint8_t *data;
};

/* The decoded first cluster. */
struct qcow2_header {
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order;
	uint32_t header_length;
	uint8_t compression_type;
	uint8_t *extra_fields;          /* bytes 105..header_length-1 kept verbatim */
	uint32_t extra_fields_len;
	struct qcow2_ext *exts;         /* in file order, END excluded */
	int nb_exts;
	char backing_file[1024];        /* NUL-terminated copy */
	char backing_fmt[32];
	bool hidden;
	bool has_hidden_ext;
};

/* Decode and validate the first cluster (every byte hostile).  buf holds
 * len bytes from file offset 0 (at least a cluster or the whole file);
 * file_size bounds the tables.  On failure records the reason (EUCLEAN for
 * corrupt, ENOTSUP for unsupported) and returns -1. */
int qcow2_header_decode(const uint8_t *buf, uint64_t len, uint64_t file_size,
			struct qcow2_header *h);
void qcow2_header_free(struct qcow2_header *h);
/* Encode the header, extensions and backing name into a cluster-sized
 * buffer, the way the first cluster is rewritten. */
int qcow2_header_encode(const struct qcow2_header *h, uint8_t *cluster, uint32_t cluster_size);

#endif
