#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the guest: a qcow2 image inside an active LV, read and written by
# the project's engine (lvqcow img) and checked by qemu-img; the LV grows
# while active and the image stays readable; the data survives a
# deactivation.
VG=lvqcow-vmq LV=n-q
DEV=/dev/$VG/$LV
fail() { echo "FAIL: $*"; exit 1; }
lq() { lvqcow lvm "$@" >out.json || { cat out.json; fail "lvqcow lvm $*"; }; }
command -v qemu-img >/dev/null || { echo "no qemu-img in the guest"; exit 0; }

lq pv-create /dev/vda 64
lq vg-create $VG /dev/vda lvqcow
lq lv-create $VG $LV 16777216
lq activate $VG $LV exclusive
qemu-img create -q -f qcow2 $DEV 10G || fail "qemu-img create on $DEV"
printf 'first-span' | lvqcow img write $DEV 0 || fail "img write at 0"
printf 'far-span' | lvqcow img write $DEV 5G || fail "img write at 5G"
[ "$(lvqcow img read $DEV 0 10)" = first-span ] || fail "read at 0"
[ "$(lvqcow img read $DEV 5G 8)" = far-span ] || fail "read at 5G"
lvqcow img check $DEV || fail "lvqcow img check"
qemu-img check -q -f qcow2 $DEV || fail "qemu-img check"

echo "grow the LV under the image while active"
lq lv-resize $VG $LV 33554432
[ "$(blockdev --getsize64 $DEV)" = 33554432 ] || fail "LV size after grow"
[ "$(lvqcow img read $DEV 5G 8)" = far-span ] || fail "read after grow"

echo "deactivate, activate read-only, read"
lq deactivate $VG $LV
lq activate $VG $LV readonly
[ "$(lvqcow img read $DEV 0 10)" = first-span ] || fail "read after reactivation"
qemu-img check -q -f qcow2 -U $DEV || fail "qemu-img check read-only"
lq deactivate $VG $LV
lq lv-remove $VG $LV
lq vg-remove $VG
lq pv-remove /dev/vda
echo "ok"
