#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Overlap guard: an L2 entry naming a metadata cluster (header, L1 table,
# refcount table, refcount block, the L2 table itself) makes a guest write
# fail; the metadata stays byte-identical except for the corrupt bit, and
# qemu-img sees the image as corrupt.
source "$LQ_TOP/tests/lib.sh"

# hostile IMG TARGET: IMG with guest cluster 1's L2 entry (an owned data
# cluster) redirected to host offset TARGET.
hostile() {
	local img=$1 target=$2 l1 l2
	rm -f "$img"
	lq img create --cluster-size 4k "$img" 1M
	head -c 8192 /dev/urandom | lq img write "$img" 0
	l1=$(be_field "$img" 40 8)
	l2=$(( $(be_field "$img" "$l1" 8) & 0x00fffffffffffe00 ))
	poke_be "$img" $((l2 + 8)) 8 "$(python3 -c "print($target | 1 << 63)")"
}

# all but the 8 bytes of incompatible features.
meta_sum() { python3 -c 'import sys, hashlib
b = bytearray(open(sys.argv[1], "rb").read()); b[72:80] = bytes(8)
print(hashlib.sha256(b).hexdigest())' "$1"; }

refused_write() {
	local img=$1 len=$2 before rc=0
	before=$(meta_sum "$img")
	head -c "$len" /dev/zero | tr '\0' 'x' | lq img write "$img" 4096 2>err.txt || rc=$?
	[ "$rc" -ne 0 ] || die "write through a hostile L2 entry succeeded"
	grep -q 'would overwrite metadata' err.txt || die "unclear error: $(cat err.txt)"
	assert_eq "metadata unchanged" "$before" "$(meta_sum "$img")"
	assert_eq "corrupt bit" 2 $(( $(be_field "$img" 72 8) & 2 ))
	qemu-img info --output=json "$img" | grep -q '"corrupt": true' || die "qemu-img info: not corrupt"
	not qemu-img check -q "$img"
	not lq img write "$img" 0 </dev/null
}

rt_at() { be_field "$1" 48 8; }
rb_at() { be_field "$1" "$(rt_at "$1")" 8; }
l1_at() { be_field "$1" 40 8; }
l2_at() { echo $(( $(be_field "$1" "$(l1_at "$1")" 8) & 0x00fffffffffffe00 )); }

for what in l1 rt rb l2; do
	for len in 4096 100; do
		note "L2 entry names the $what table, $len-byte write"
		hostile h.qcow2 0
		target=$("${what}_at" h.qcow2)
		hostile h.qcow2 "$target"
		refused_write h.qcow2 "$len"
	done
done

note "reads still work on an image marked corrupt"
lq img read h.qcow2 0 512 >/dev/null
