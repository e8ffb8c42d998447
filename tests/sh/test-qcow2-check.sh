#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lvqcow img check against qemu-img check: the same exit code and the same
# counters (image end, allocated, fragmented, compressed clusters, leaks,
# corruptions) on clean images of every layout qemu makes and on images
# the engine wrote; leaks and refcount errors made on purpose; repairs
# that leave both checkers satisfied and the guest data unchanged.
. "$LQ_TOP/tests/lib.sh"

# same_check IMAGE EXPECTED_RC: both checkers give EXPECTED_RC and agree.
same_check() {
	local img=$1 want=$2 ours theirs
	ours=$(rc_of lq img check "$img")
	theirs=$(rc_of qemu-img check "$img")
	assert_eq "qemu-img check $img" "$want" "$theirs"
	assert_eq "lvqcow img check $img" "$want" "$ours"
	assert_eq "check counters $img" "$(check_json "$img")" "$(check_json_lq "$img")"
}

note "clean images made by qemu-img"
qemu-img create -q -f qcow2 plain.qcow2 64M
qemu-io -f qcow2 -c 'write -P 1 0 5M' -c 'write -P 2 30M 64k' -c 'write -z 40M 1M' \
	-c 'write -P 3 50M 300k' plain.qcow2 >/dev/null
same_check plain.qcow2 0
for opts in compat=0.10 cluster_size=512 cluster_size=2M refcount_bits=1 refcount_bits=8 \
	refcount_bits=64 extended_l2=on,cluster_size=64k lazy_refcounts=on; do
	qemu-img create -q -f qcow2 -o "$opts" "o-$opts.qcow2" 64M
	qemu-io -f qcow2 -c 'write -P 5 1M 3M' -c 'write -P 6 40M 4k' -c 'write -z 50M 192k' \
		"o-$opts.qcow2" >/dev/null
	same_check "o-$opts.qcow2" 0
done
qemu-img convert -c -O qcow2 plain.qcow2 compressed.qcow2
same_check compressed.qcow2 0
cp plain.qcow2 snap.qcow2
qemu-img snapshot -c s1 snap.qcow2
qemu-io -f qcow2 -c 'write -P 9 0 1M' -c 'write -P 9 50M 1M' snap.qcow2 >/dev/null
qemu-img snapshot -c s2 snap.qcow2
same_check snap.qcow2 0
cp plain.qcow2 bitmap.qcow2
qemu-img bitmap --add bitmap.qcow2 b0
qemu-img bitmap --add -g 1M bitmap.qcow2 b1
same_check bitmap.qcow2 0
qemu-img create -q -f qcow2 -b plain.qcow2 -F qcow2 overlay.qcow2
qemu-io -f qcow2 -c 'write -P 4 1M 1M' -c 'write -z 30M 64k' overlay.qcow2 >/dev/null
same_check overlay.qcow2 0

note "clean images written by the engine"
lq img create --cluster-size 4096 eng.qcow2 64M
head -c 3M /dev/urandom > blob
lq img write eng.qcow2 0 < blob
lq img write eng.qcow2 40M < blob
lq img zero eng.qcow2 512K 1M
lq img discard eng.qcow2 40M 64K
same_check eng.qcow2 0
lq img create -b plain.qcow2 -F qcow2 eng-top.qcow2 64M
lq img write eng-top.qcow2 20M < blob
same_check eng-top.qcow2 0

note "leaks: an extra refcounted cluster, a dropped L2 table"
cp plain.qcow2 leak1.qcow2
leak_cluster leak1.qcow2
same_check leak1.qcow2 3
cp plain.qcow2 leak2.qcow2
l1=$(be_field leak2.qcow2 40 8)
poke_be leak2.qcow2 "$l1" 8 0                # the L2 table and its data clusters leak
same_check leak2.qcow2 3

note "repair of leaks keeps the data and satisfies both checkers"
for img in leak1.qcow2 leak2.qcow2; do
	raw_of "$img" before.raw
	cp "$img" "q-$img"
	rc=$(rc_of lq img check --repair leaks "$img")
	assert_eq "repair $img" 0 "$rc"
	same_check "$img" 0
	raw_of "$img" after.raw
	cmp_files before.raw after.raw
	qemu-img check -q -r leaks "q-$img"
	same_check "q-$img" 0
done
lq img check --json --repair leaks leak1.qcow2 > repaired.json
grep -q '"check-errors": 0' repaired.json || die "repair JSON: $(cat repaired.json)"

note "corruptions: refcount too low, COPIED flag wrong; --repair all fixes them"
cp plain.qcow2 low.qcow2
rt=$(be_field low.qcow2 48 8)
rb=$(be_field low.qcow2 "$rt" 8)
l2=$(( $(be_field low.qcow2 "$l1" 8) & 0x00fffffffffffe00 ))
data=$(( $(be_field low.qcow2 "$l2" 8) & 0x00fffffffffffe00 ))
poke_be low.qcow2 $((rb + 2 * (data >> 16))) 2 0   # a live data cluster looks free
same_check low.qcow2 2
not lq img check --repair leaks low.qcow2 >/dev/null 2>&1
raw_of plain.qcow2 before.raw
rc=$(rc_of lq img check --repair all low.qcow2)
assert_eq "repair all (refcount)" 0 "$rc"
same_check low.qcow2 0
raw_of low.qcow2 after.raw
cmp_files before.raw after.raw

cp plain.qcow2 copied.qcow2
e=$(be_field copied.qcow2 "$l2" 8)
poke_be copied.qcow2 "$l2" 8 $((e & 0x7fffffffffffffff))   # clear COPIED
same_check copied.qcow2 2
rc=$(rc_of lq img check --repair all copied.qcow2)
assert_eq "repair all (COPIED)" 0 "$rc"
same_check copied.qcow2 0

note "cannot check"
head -c 1M /dev/zero > raw.img
assert_eq "raw image" 63 "$(rc_of lq img check raw.img)"
assert_eq "raw image (qemu)" 63 "$(rc_of qemu-img check raw.img)"
assert_eq "missing file" 1 "$(rc_of lq img check nonexistent.qcow2)"
cp plain.qcow2 v4.qcow2
poke_be v4.qcow2 4 4 4
assert_eq "version 4" 1 "$(rc_of lq img check v4.qcow2)"
assert_eq "version 4 (qemu)" 1 "$(rc_of qemu-img check v4.qcow2)"
note "check agrees with qemu-img"
