#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the guest (nbd.ko loaded): Datapath.attach of a fileqcow volume
# returns a /dev/nbdN; ext4 on it is written, unmounted, checked and read
# back byte for byte; two volumes get distinct devices; a server killed
# under an attached device makes I/O fail (not hang) and the next attach
# replaces the device; detach disconnects it.  Needs the installed call
# trees (make install) and mkfs.ext4/fsck.ext4 in the guest.
XSS=/usr/libexec/xapi-storage-script
VOL=$XSS/volume/org.xen.xapi.storage.fileqcow DP=$XSS/datapath/lvqcow
fail() { echo "FAIL: $*"; exit 1; }
for t in mkfs.ext4 fsck.ext4 mount timeout; do
	command -v $t >/dev/null || { echo "no $t in the guest: skipped"; exit 0; }
done
[ -x "$VOL/SR.create" ] || { echo "no installed call trees in the guest: skipped"; exit 0; }
[ -e /sys/module/nbd ] || fail "nbd.ko is not loaded"
export LVQCOW_RUNDIR=$PWD/run
mkdir -p sr run mnt
call() { m=$1; shift; printf '%s' "$*" | "$m" --json || fail "$(basename "$m") $*"; }

call "$VOL/SR.create" '{"dbg":"t","uuid":"6b1d2c9e-0d7e-4d0c-9a53-2f4f1b7a9c01","configuration":{"path":"'"$PWD/sr"'"},"name":"g","description":""}' >cfg.json
sr=$(call "$VOL/SR.attach" '{"dbg":"t","configuration":{"path":"'"$PWD/sr"'"}}' | sed -n 's/.*"\([^"]*fileqcow[^"]*\)".*/\1/p')
[ -n "$sr" ] || fail "no SR from SR.attach"
vol() { call "$VOL/Volume.create" '{"dbg":"t","sr":"'"$sr"'","name":"'"$1"'","description":"","size":67108864,"sharable":false}' |
	grep -o 'lvqcow://[^"]*' | head -1; }
attach() { call "$DP/Datapath.attach" '{"dbg":"t","uri":"'"$1"'","domain":"0"}' | grep -o '/dev/nbd[0-9]*' | sort -u; }
detach() { call "$DP/Datapath.detach" '{"dbg":"t","uri":"'"$1"'","domain":"0"}' >/dev/null; }
u1=$(vol a) u2=$(vol b)
[ -n "$u1" ] && [ -n "$u2" ] || fail "no volume URIs"

echo "attach returns a block device; ext4 on it"
d1=$(attach "$u1")
[ -b "$d1" ] || fail "no block device from attach: $d1"
call "$DP/Datapath.activate" '{"dbg":"t","uri":"'"$u1"'","domain":"0"}' >/dev/null
mkfs.ext4 -q "$d1" || fail "mkfs.ext4 $d1"
mount "$d1" mnt || fail "mount $d1"
dd if=/dev/urandom of=model bs=1M count=8 2>/dev/null
cp model mnt/f1 && cp model mnt/f2 || fail "writing files"
umount mnt || fail "umount"
fsck.ext4 -fn "$d1" || fail "fsck after writes"
mount -o ro "$d1" mnt && cmp model mnt/f1 && cmp model mnt/f2 || fail "bytes differ"
umount mnt

echo "a second volume gets a distinct device"
d2=$(attach "$u2")
[ -b "$d2" ] && [ "$d2" != "$d1" ] || fail "devices $d1 and $d2"

echo "a killed server: I/O fails, does not hang; the next attach replaces the device"
key2=$(basename "$u2")
kill -9 "$(cat "$LVQCOW_RUNDIR/nbd/$key2/pid")"
rc=0
timeout 60 dd if="$d2" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || rc=$?
[ $rc -ne 0 ] || fail "read from $d2 after its server died succeeded"
[ $rc -ne 124 ] || fail "read from $d2 hung"
d2b=$(attach "$u2")
[ -b "$d2b" ] || fail "re-attach after a dead server: $d2b"
timeout 60 dd if="$d2b" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || fail "read after re-attach"

echo "detach disconnects"
call "$DP/Datapath.deactivate" '{"dbg":"t","uri":"'"$u1"'","domain":"0"}' >/dev/null
detach "$u1"
detach "$u2"
n1=$(basename "$d1")
[ "$(cat /sys/block/$n1/size)" = 0 ] || fail "$d1 still connected after detach"
echo "ok"
