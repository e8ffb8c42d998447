#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the guest (nbd.ko loaded), on an lvqcow SR on /dev/vda through the
# installed plugin executables: Datapath.attach returns a /dev/nbdN;
# ext4 on it is written while fio (with --verify) writes through the
# device across a live snapshot and a live coalesce (snapshot destroyed,
# gc --once while attached) with no I/O error and no kernel NBD timeout;
# a read issued while the server is paused waits for the resume;
# then unmount, fsck, every byte read back against its model, also after
# a detach and a new attach; two volumes get distinct devices; a server
# killed under an attached device makes I/O fail (not hang), the next
# call reports it and the next attach replaces the device; detach
# disconnects (the device is free afterwards).
set -eu
# Only in the VM bed: it takes /dev/vda and kills every lvqcow server.
[ -n "${LQ_VM_BUILD:-}" ] || { echo "not in the VM bed: skipped"; exit 77; }
. "$(dirname "$0")/lib-lvqcow.sh"
export LVQCOW_NBD_DEVICE=1
# Also on stderr: a failure inside $(...) must reach the log.
fail() { echo "FAIL: $*" | tee /dev/stderr; exit 1; }
for t in mkfs.ext4 fsck.ext4 mount umount fio dmesg timeout cmp lvqcow; do
	command -v $t >/dev/null || fail "no $t in the guest"
done
[ -e /sys/module/nbd ] || fail "nbd.ko is not loaded"
mnt=$PWD/mnt
mkdir -p "$mnt"
keys="" sr=""
fiopid=""
nbd_cleanup() {
	touch fio.stop
	[ -z "$fiopid" ] || kill "$fiopid" 2>/dev/null || true
	umount "$mnt" 2>/dev/null || true
	for k in $keys; do
		u=$(cat "uri.$k")
		printf '{"dbg":"t","uri":"%s","domain":"0"}' "$u" | "$dp/Datapath.detach" --json >/dev/null 2>&1 || true
	done
	lq_cleanup
}
trap nbd_cleanup EXIT
dmesg -c >/dev/null

sr_uuid=5a0c1d2e-3f40-4152-8637-48596a7b8c9d
mib=1048576
call "$vol" SR.create "{\"dbg\":\"t\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"nbd\",\"description\":\"\"}" >/dev/null
sr=$(call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" | tr -d '"')
# newvol NAME: the new volume's key; its URI in the file uri.KEY.
newvol() {
	v=$(call "$vol" Volume.create "{\"dbg\":\"t\",\"sr\":\"$sr\",\"name\":\"$1\",\"description\":\"\",\"size\":$((256 * mib)),\"sharable\":false}")
	k=$(echo "$v" | field key)
	echo "$v" | sed -n 's/.*"uri": *\[ *"\([^"]*\)".*/\1/p' >"uri.$k"
	[ -n "$k" ] && [ -s "uri.$k" ] || fail "Volume.create: $v"
	echo "$k"
}
dpcall() { call "$dp" "$1" "{\"dbg\":\"t\",\"uri\":\"$(cat "uri.$2")\",\"domain\":\"0\"}"; }
# attach KEY: the /dev/nbdN of the result (XenDisk and BlockDevice agree).
attach() {
	call "$dp" Datapath.open "{\"dbg\":\"t\",\"uri\":\"$(cat "uri.$1")\",\"persistent\":true}" >/dev/null
	a=$(dpcall Datapath.attach "$1")
	d=$(echo "$a" | grep -o '"/dev/nbd[0-9]*"' | sort -u | tr -d '"')
	[ "$(echo "$d" | wc -l)" = 1 ] && [ -b "$d" ] || fail "Datapath.attach gave no single block device: $a"
	echo "$a" | grep -q '"vbd"' || fail "Datapath.attach: XenDisk is not vbd: $a"
	dpcall Datapath.activate "$1" >/dev/null
	echo "$d"
}
detach() {
	dpcall Datapath.deactivate "$1" >/dev/null
	dpcall Datapath.detach "$1" >/dev/null
}
# dev_free DEV: no longer connected (the kernel drops its pid file and
# size once its receive workers end, shortly after the disconnect).
dev_free() {
	n=$(basename "$1")
	for _ in $(seq 50); do
		[ -e "/sys/block/$n/pid" ] || [ "$(cat "/sys/block/$n/size")" != 0 ] || return 0
		sleep 0.2
	done
	return 1
}
nbd_errors() { dmesg | grep -iE 'timed out|I/O error|EXT4-fs (error|warning)|blk_update_request|dead conn' || true; }

k1=$(newvol a)
keys="$k1"
d1=$(attach "$k1")
echo "volume $k1 is $d1"
mkfs.ext4 -q -E lazy_itable_init=1,lazy_journal_init=1 "$d1" || fail "mkfs.ext4 $d1"
mount "$d1" "$mnt" || fail "mount $d1"
head -c $((8 * mib)) /dev/urandom >model
cp model "$mnt/f1" && sync || fail "writing f1"

# fio --verify through ext4 on the device, in a loop until told to stop:
# every round writes 16 MiB of checksummed blocks and reads them back.
fio_job() {
	fio --name=v --filename="$mnt/fio.dat" --size=16M --bs=64k --rw=randwrite --direct=1 \
		--ioengine=psync --verify=crc32c --verify_fatal=1 --do_verify=1 "$@"
}
rm -f fio.stop
(
	i=0
	while [ ! -e fio.stop ] || [ $i -lt 2 ]; do
		i=$((i + 1))
		fio_job --output=fio.$i.log || { echo "fio round $i failed" >fio.failed; exit 1; }
	done
	echo $i >fio.rounds
) &
fiopid=$!
sleep 2

echo "live snapshot while fio writes"
snap=$(call "$vol" Volume.snapshot "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$k1\"}" | field key)
[ -n "$snap" ] || fail "Volume.snapshot gave no key"
cp model "$mnt/f2" && sync || fail "writing f2 after the snapshot"
echo "live coalesce while fio writes"
call "$vol" Volume.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$snap\"}" >/dev/null
lvqcow gc --type lvqcow --once "$sr" || fail "gc --once"
[ "$(lvs --noheadings -o lv_name "lvqcow-$sr_uuid" | grep -c ' n-')" = 1 ] || fail "the chain was not coalesced"
touch fio.stop
wait $fiopid || fail "fio under the snapshot and coalesce: $(cat fio.failed 2>/dev/null; cat fio.*.log | grep -iE 'err|verify' | head)"
echo "fio: $(cat fio.rounds) verified rounds across the snapshot and the coalesce"
# What the pauses cost the device, from its server: at least the
# snapshot's and the coalesce's.  fio restarts between rounds, so a
# pause may fall between two of them: held is reported, not required.
st=$(python3 "$LQ_TOP/tests/lq_ctl.py" "/run/lvqcow/nbd/$k1/ctl" status) || fail "status: $st"
pauses=$(echo "$st" | sed -n 's/.* pauses=\([0-9]*\) .*/\1/p')
[ "${pauses:-0}" -ge 2 ] || fail "fewer than two pauses: $st"
echo "pauses: $(echo "$st" | grep -o 'pauses=[0-9]* paused_ms=[0-9]* held=[0-9]*')"
# So one request is held on purpose: a direct read issued while the
# server is paused waits (no error, no kernel timeout), and completes
# after the resume.
ctl=/run/lvqcow/nbd/$k1/ctl
held() { python3 "$LQ_TOP/tests/lq_ctl.py" "$ctl" status | sed -n 's/.* held=\([0-9]*\).*/\1/p'; }
held0=$(held)
python3 "$LQ_TOP/tests/lq_ctl.py" "$ctl" pause >/dev/null || fail "pause"
dd if="$d1" of=/dev/null bs=4096 count=1 skip=4321 iflag=direct 2>dd.err &
ddpid=$!
sleep 2
if ! kill -0 $ddpid 2>/dev/null; then
	python3 "$LQ_TOP/tests/lq_ctl.py" "$ctl" resume >/dev/null
	fail "a read finished while the server was paused: $(cat dd.err)"
fi
python3 "$LQ_TOP/tests/lq_ctl.py" "$ctl" resume >/dev/null || fail "resume"
wait $ddpid || fail "the read held by the pause failed: $(cat dd.err)"
held1=$(held)
[ "${held1:-0}" -gt "${held0:-0}" ] || fail "the held read was not counted: held $held0 -> $held1"
echo "a read issued during a pause waited for the resume: held $held0 -> $held1"
[ -z "$(nbd_errors)" ] || fail "kernel errors during the pauses: $(nbd_errors)"
fio_job --verify_only --output=fio.final.log || fail "fio's data does not verify after the rounds"

umount "$mnt" || fail "umount"
fsck.ext4 -fn "$d1" >fsck.log || fail "fsck.ext4 after the snapshot and the coalesce"
mount -o ro "$d1" "$mnt" && cmp model "$mnt/f1" && cmp model "$mnt/f2" || fail "file bytes differ"
umount "$mnt"

echo "detach, attach again: the same bytes"
detach "$k1"
dev_free "$d1" || fail "$d1 still connected after detach"
d1=$(attach "$k1")
fsck.ext4 -fn "$d1" >/dev/null || fail "fsck.ext4 after a new attach"
mount "$d1" "$mnt" && cmp model "$mnt/f1" && cmp model "$mnt/f2" || fail "file bytes differ after a new attach"
fio_job --verify_only --output=fio.reattach.log ||
	fail "fio's data does not verify after a new attach"
umount "$mnt"

echo "a second volume gets a distinct device"
k2=$(newvol b)
keys="$k1 $k2"
d2=$(attach "$k2")
[ "$d2" != "$d1" ] || fail "both volumes got $d1"
dd if=/dev/zero of="$d2" bs=1M count=4 oflag=direct 2>/dev/null || fail "writing $d2"

echo "a killed server: I/O fails, does not hang; the next call reports it"
kill -9 "$(cat "/run/lvqcow/nbd/$k2/pid")"
rc=0
timeout 60 dd if="$d2" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || rc=$?
[ $rc -ne 124 ] || fail "a read from $d2 hung after its server died"
[ $rc -ne 0 ] || fail "a read from $d2 succeeded after its server died"
if out=$(printf '{"dbg":"t","uri":"%s","domain":"0"}' "$(cat "uri.$k2")" |
	timeout 60 "$dp/Datapath.activate" --json); then
	fail "Datapath.activate after the server died succeeded: $out"
fi
echo "$out" | grep -q "NBD server is not running" || fail "Datapath.activate after the server died: $out"
echo "reported: $(echo "$out" | cut -c1-200)"
d2b=$(attach "$k2")
timeout 60 dd if="$d2b" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || fail "a read after a new attach"
[ "$d2b" = "$d2" ] || dev_free "$d2" || fail "the dead server's $d2 is still connected"

echo "detach disconnects"
detach "$k1"
detach "$k2"
dev_free "$d1" || fail "$d1 still connected after detach"
dev_free "$d2b" || fail "$d2b still connected after detach"
[ ! -e "/run/lvqcow/nbd/$k1/device" ] || fail "the device record survived detach"
echo "ok"
