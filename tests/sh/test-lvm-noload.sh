#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# liblvm2cmd is loaded only by a process that runs an LVM command: the
# binary does not link it (dlopen on first use), so the NBD server never
# maps it, while "lvqcow lvm version" does load it.
source "$LQ_TOP/tests/lib.sh"

needed=$(readelf -d "$LQ_BIN" | grep NEEDED || true)
if grep -qiE "lvm2cmd|devmapper" <<<"$needed"; then
	die "lvqcow links LVM: $needed"
fi

note "a process that runs an LVM command loads liblvm2cmd"
LD_DEBUG=files lq lvm version 2>ld.txt >out.json || die "lvqcow lvm version failed: $(tail -3 ld.txt)"
grep -q "file=liblvm2cmd" ld.txt || die "liblvm2cmd was not loaded by lvqcow lvm version"

note "the NBD server does not"
qemu-img create -q -f qcow2 img.qcow2 1M
nbd_start e img.qcow2
pid=$(nbd_pid e)
[ -n "$pid" ] || die "no server pid"
qemu-io -f raw -c 'read 0 4096' "$(nbd_qemu e)" >/dev/null || die "server does not serve"
if grep -iE "lvm2cmd|devmapper" "/proc/$pid/maps"; then
	die "the NBD server maps LVM libraries"
fi
grep -q "libjson-c" "/proc/$pid/maps" || die "maps of the server not readable as expected"
