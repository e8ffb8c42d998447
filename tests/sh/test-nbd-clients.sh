#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The NBD server against real clients: qemu-io and nbdcopy write random
# data at scattered offsets into a qcow2 chain through NBD; the guest view
# is checked against a raw model through NBD, and after a clean stop
# through qemu-img (check, convert).  Fresh volumes read as zeros and
# BLOCK_STATUS agrees with qemu-img map.
. "$LQ_TOP/tests/lib.sh"
command -v nbdcopy >/dev/null || skip "nbdcopy not installed"
command -v nbdinfo >/dev/null || skip "nbdinfo not installed"
ops() { python3 "$LQ_TESTS/nbd_ops.py" "$@"; }
size=$((64 << 20))

note "a fresh volume reads as zeros"
qemu-img create -q -f qcow2 fresh.qcow2 $size
nbd_start fresh fresh.qcow2
nbdcopy "$(nbd_uri fresh)" fresh.out
cmp_files fresh.out <(head -c $size /dev/zero)
assert_eq "fresh size" $size "$(nbdinfo --size "$(nbd_uri fresh)")"
nbd_stop fresh

note "a two-image chain: base with data, writable top"
qemu-img create -q -f qcow2 base.qcow2 $size
qemu-io -f qcow2 -c 'write -P 0x11 0 1M' -c 'write -P 0x22 5M 3M' \
	-c 'write -P 0x33 63M 1M' base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
raw_of base.qcow2 base.model
cp base.model model.raw
nbd_start top top.qcow2 --backing "$PWD/base.qcow2"

note "nbdcopy uploads a sparse random image (writes and zeroes)"
ops sparse 7 40 $size upload.raw
nbdcopy upload.raw "$(nbd_uri top)"
cp upload.raw model.raw

note "qemu-io writes data, patterns and zeros at scattered unaligned offsets"
mkdir -p w
ops qemu-io 11 120 $size model.raw w >ops.txt
args=()
while read -r line; do args+=(-c "$line"); done <ops.txt
qemu-io -f raw "${args[@]}" "$(nbd_qemu top)" >qemu-io.log
! grep -qi 'error\|fail' qemu-io.log || die "qemu-io: $(grep -i 'error\|fail' qemu-io.log | head -1)"

note "FAST_ZERO is refused when it would need data writes, granted otherwise"
qemu-io -f raw -c 'write -z -n 4097 1000' "$(nbd_qemu top)" >fz.log 2>&1 || true
grep -qi 'not supported' fz.log || die "unaligned fast zero accepted: $(cat fz.log)"
qemu-io -f raw -c 'write -z -n 8M 1M' "$(nbd_qemu top)" >/dev/null
dd if=/dev/zero of=model.raw bs=1M seek=8 count=1 conv=notrunc status=none

note "read back through NBD (nbdcopy, and qemu-io with several requests in flight)"
nbdcopy --connections=4 --requests=32 "$(nbd_uri top)" back.raw
cmp_files back.raw model.raw
qemu-img convert -f raw -O raw "$(nbd_qemu top)" back2.raw
cmp_files back2.raw model.raw

note "BLOCK_STATUS agrees with qemu-img map"
nbdinfo --map --json "$(nbd_uri top)" >nbd.map
nbd_stop top
qemu-img map --output=json top.qcow2 >qemu.map
ops mapcmp nbd.map qemu.map

note "after the stop: the image is clean, the content is the model, the base untouched"
qcheck top.qcow2
qcheck base.qcow2
raw_of top.qcow2 final.raw
cmp_files final.raw model.raw
raw_of base.qcow2 base.after
cmp_files base.after base.model

note "a read-only server refuses writes"
nbd_start ro top.qcow2 --readonly --backing "$PWD/base.qcow2"
assert_eq "read-only flag" true "$(nbdinfo --json "$(nbd_uri ro)" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["exports"][0]["is_read_only"]).lower())')"
qemu-io -f raw -c 'write 0 4k' "$(nbd_qemu ro)" >/dev/null 2>&1 || true
nbdcopy "$(nbd_uri ro)" ro.raw
cmp_files ro.raw model.raw
nbd_stop ro
qcheck top.qcow2
