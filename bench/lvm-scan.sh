#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the VM test bed: what restricting an LVM command to the SR's PV
# (--devices, LVM 2.03.12 and later) saves over scanning every device
# lvm.conf allows (the guest's /dev/vda, eight loop devices and vdb).
# Takes /dev/vda.  Run from the host:
#   ./tests/vm/run.sh build "sh $PWD/bench/lvm-scan.sh"
# t N CMD...: the mean ms of N runs of CMD.
t() { n=$1; shift; s=$(date +%s%N); i=0; while [ $i -lt $n ]; do "$@" >/dev/null 2>&1 </dev/null; i=$((i+1)); done; e=$(date +%s%N); echo "$(( (e-s)/n/1000000 )) ms  $*"; }
lvm version | head -2
pvcreate -y /dev/vda >/dev/null; vgcreate vgx /dev/vda >/dev/null
for i in 1 2 3 4 5; do lvcreate -an -Zn -L 8m -n l$i vgx >/dev/null 2>&1; done
C='global{use_aio=0}'
for r in 1 2; do
t 10 lvm vgs --config "$C" vgx
t 10 lvm vgs --config "$C" --devices /dev/vda vgx
t 10 lvm vgs --config "$C devices{scan=[\"/dev/disk/by-id\"]}" vgx
t 10 lvm lvs --config "$C" vgx
t 10 lvm lvs --config "$C" --devices /dev/vda vgx
done
# What a restricted command still opens.
strace -f -e trace=openat,open -o /tmp/s1 lvm vgs --config "$C" --devices /dev/vda vgx >/dev/null 2>&1
grep -v ENOENT /tmp/s1 | grep -o '"/dev[^"]*"' | sort | uniq -c
vgremove -ff vgx >/dev/null; pvremove -ff -y /dev/vda >/dev/null
