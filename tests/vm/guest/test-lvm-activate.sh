#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the guest, with a real device-mapper and /dev/vda as the PV: the LVM
# layer (lvqcow lvm) creates a VG and an LV, activates it exclusively,
# the data written reads back, it grows while active, deactivation
# removes the device, a read-only activation refuses writes and keeps
# the data, a shared one reads it, an active LV cannot be removed (but
# by an unused removal, and then only while no one opens it), and
# everything is removed at the end.
VG=lvqcow-vm LV=n-1
DEV=/dev/$VG/$LV
fail() { echo "FAIL: $*"; exit 1; }
lq() { lvqcow lvm "$@" >out.json || { cat out.json; fail "lvqcow lvm $*"; }; }
active() { lvqcow lvm lv $VG $LV | grep -q "\"active\":$1" || fail "$LV active is not $1"; }

lq pv-create /dev/vda 64
lq vg-create $VG /dev/vda lvqcow
lq lv-create $VG $LV 67108864 lq-node
active false
[ ! -e $DEV ] || fail "$DEV exists before activation"

echo "exclusive activation, write, read back"
lq activate $VG $LV exclusive
[ -b $DEV ] || fail "$DEV is not a block device"
active true
dd if=/dev/urandom of=pattern bs=1M count=4 2>/dev/null
dd if=pattern of=$DEV bs=1M conv=fsync 2>/dev/null || fail "write to $DEV"
dd if=$DEV of=back bs=1M count=4 2>/dev/null
cmp pattern back || fail "data read back differs"

echo "grow while active"
lq lv-resize $VG $LV 134217728
[ "$(blockdev --getsize64 $DEV)" = 134217728 ] || fail "size after grow: $(blockdev --getsize64 $DEV)"
dd if=$DEV of=back bs=1M count=4 2>/dev/null
cmp pattern back || fail "data changed by the resize"

echo "deactivate"
lq deactivate $VG $LV
[ ! -e $DEV ] || fail "$DEV still there after deactivation"
active false

echo "read-only activation"
lq activate $VG $LV readonly
[ "$(blockdev --getro $DEV)" = 1 ] || fail "$DEV is writable"
if dd if=/dev/zero of=$DEV bs=1M count=1 conv=fsync 2>/dev/null; then fail "wrote to a read-only LV"; fi
dd if=$DEV of=back bs=1M count=4 2>/dev/null
cmp pattern back || fail "data differs after read-only activation"
lq deactivate $VG $LV

echo "shared activation, then read-write again (the read-only one left no trace)"
lq activate $VG $LV shared
[ "$(blockdev --getro $DEV)" = 0 ] || fail "shared activation is read-only"
dd if=$DEV of=back bs=1M count=4 2>/dev/null
cmp pattern back || fail "data differs after shared activation"

echo "an active LV is not removed"
if lvqcow lvm lv-remove $VG $LV >out.json; then fail "removed an active LV"; fi
cat out.json
active true
lq deactivate $VG $LV

echo "an unused removal takes an active LV, but not while it is open"
lq activate $VG $LV exclusive
exec 3<$DEV
if lvqcow lvm lv-remove $VG $LV unused >out.json; then fail "removed an open LV"; fi
cat out.json
exec 3<&-
active true
lq lv-remove $VG $LV unused
[ ! -e $DEV ] || fail "$DEV still there after its removal"
lvqcow lvm lv $VG $LV >out.json && fail "$LV still listed after its removal"
if lvqcow lvm lv-remove $VG $LV sometimes >out.json; then fail "lv-remove took a bad third argument"; fi

echo "remove everything"
lq lv-create $VG $LV 67108864 lq-node
lq lv-remove $VG $LV
lq vg-remove $VG
lq pv-remove /dev/vda
[ -z "$(lvm pvs --noheadings /dev/vda 2>/dev/null)" ] || fail "PV label left"
echo "ok"
