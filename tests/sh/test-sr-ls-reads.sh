#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SR.ls reads the metadata area once per record it prints: the index in
# one read, then each volume record and its leaf node record, the leaf
# found in the index already read.  A separate index lookup per leaf (one
# more bucket read per volume, and a cache that grows with the SR and is
# searched linearly) made the listing cost grow faster than the SR.
# Counted with strace on the area's descriptor, at two SR sizes: the
# reads may grow by 2 per volume added, no more.
source "$LQ_TOP/tests/lib.sh"
command -v strace >/dev/null || skip "strace is missing (make deps)"
strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"

SR=$(realpath sr)
new_sr sr >/dev/null

# grow N: create volumes until the SR holds N.
have=0
grow() {
	for ((; have < $1; have++)); do
		call "$LQ_FILEQCOW" Volume.create \
			"{\"dbg\":\"t\",\"sr\":\"$SR\",\"name\":\"v$have\",\"description\":\"\",\"size\":1048576,\"sharable\":false}" \
			>/dev/null
	done
}

# area_reads: pread64 calls on the metadata area during one SR.ls, after
# checking that SR.ls lists every volume.
area_reads() {
	local n
	n=$(call "$LQ_FILEQCOW" SR.ls "{\"dbg\":\"t\",\"sr\":\"$SR\"}" | jq length)
	assert_eq "volumes listed" "$have" "$n"
	printf '{"dbg":"t","sr":"%s"}\n' "$SR" |
		strace -f -y -e trace=pread64 -o trace.txt "$LQ_FILEQCOW/SR.ls" --json >/dev/null
	grep -c 'lvqcow-sr.meta>' trace.txt
}

grow 10
small=$(area_reads)
grow 50
large=$(area_reads)
note "area reads: $small with 10 volumes, $large with 50"
[ $((large - small)) -le $((2 * 40)) ] ||
	die "SR.ls: $((large - small)) more area reads for 40 more volumes (at most 80 expected)"
