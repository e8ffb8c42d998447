#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the VM test bed: what growing an LV costs while it is active (a
# device-mapper reload: suspend, resume, LVM's mlock of its memory)
# against while it is inactive (metadata only), each as one
# `lvqcow lvm lv-resize` process (an lvs, then an lvresize), beside
# `lvqcow lvm version` (the process, the library and its init alone).
# Datapath.attach grows the leaf once it is active.  Takes /dev/vda.
# Run from the host:
#   ./tests/vm/run.sh build "sh $PWD/bench/lvm-resize.sh"
set -eu
cd /tmp
# The binary from the guest's disk, as bench/lvm-guest.sh runs it.
mkdir -p /tmp/lq-resize.d && cp "$LQ_VM_BUILD/lvqcow" /tmp/lq-resize.d/lvqcow
lq() { /tmp/lq-resize.d/lvqcow lvm "$@" >/dev/null; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
lq pv-create /dev/vda 64
lq vg-create vgr /dev/vda lvqcow
for i in 1 2 3 4 5 6 7 8 9 10; do lq lv-create vgr n-$i 4194304; done
size=8388608
for r in 1 2 3 4 5 6; do
	lq activate vgr n-1 exclusive
	size=$((size + 4194304)); a=$(ms); lq lv-resize vgr n-1 $size; b=$(ms)
	lq deactivate vgr n-1
	size=$((size + 4194304)); c=$(ms); lq lv-resize vgr n-1 $size; d=$(ms)
	lq version; e=$(ms)
	echo "round $r: resize active $((b - a)) ms, inactive $((d - c)) ms, version $((e - d)) ms"
done
for i in 1 2 3 4 5 6 7 8 9 10; do lq lv-remove vgr n-$i; done
lq vg-remove vgr
lq pv-remove /dev/vda
