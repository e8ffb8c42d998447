#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A call that changes the SR syncs the metadata area twice: once for the
# WAL, once for the home blocks.  Its open must not replay and sync the
# previous call's transaction again (that WAL is retired once applied),
# and a read-only call syncs nothing.  Counted with strace on the area.
source "$LQ_TOP/tests/lib.sh"
command -v strace >/dev/null || skip "strace is missing (make deps)"
strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"

SR=$(realpath sr)
new_sr sr >/dev/null
KEY=$(call "$LQ_FILEQCOW" Volume.create \
	"{\"dbg\":\"t\",\"sr\":\"$SR\",\"name\":\"v\",\"description\":\"\",\"size\":1048576,\"sharable\":false}" |
	jq -r .key)

# area_syncs METHOD JSON: fsync/fdatasync calls on the area during one call.
area_syncs() {
	printf '%s\n' "$2" |
		strace -f -y -e trace=fsync,fdatasync -o trace.txt "$LQ_FILEQCOW/$1" --json >/dev/null
	grep -c 'lvqcow-sr.meta>' trace.txt || true
}

for name in one two; do
	assert_eq "syncs of Volume.set_name" 2 \
		"$(area_syncs Volume.set_name "{\"dbg\":\"t\",\"sr\":\"$SR\",\"key\":\"$KEY\",\"new_name\":\"$name\"}")"
done
assert_eq "name" two "$(call "$LQ_FILEQCOW" Volume.stat "{\"dbg\":\"t\",\"sr\":\"$SR\",\"key\":\"$KEY\"}" | jq -r .name)"
assert_eq "syncs of SR.stat" 0 "$(area_syncs SR.stat "{\"dbg\":\"t\",\"sr\":\"$SR\"}")"
