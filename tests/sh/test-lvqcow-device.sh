#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SR.create, SR.attach and SR.probe of lvqcow against devices it must not
# take, on loop devices (this kernel has no device-mapper, so only what
# happens before the first activation runs here; tests/vm runs the rest):
# no device, not a block device, a path of odd form, a device holding a
# filesystem, a mounted one, one opened exclusively elsewhere, a PV of a
# foreign VG.  Each is refused with a clear error and nothing on the
# device changes (the filesystem keeps every byte, and checks clean after
# it was mounted; the foreign VG keeps its metadata sequence number).
# Attach and probe of a device without an SR answer SR_NOT_EXIST.
source "$LQ_TOP/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for loop devices"
command -v lvm >/dev/null || skip "no lvm binary (apt-get install lvm2)"
for f in fs pv spare; do truncate -s 256M $f.img; done
mkfs.ext4 -q -F fs.img
FS=$(losetup -f --show fs.img 2>/dev/null) || skip "losetup impossible here"
at_exit losetup -d "$FS"
PV=$(losetup -f --show pv.img) || die "losetup"
at_exit losetup -d "$PV"
SPARE=$(losetup -f --show spare.img) || die "losetup"
at_exit losetup -d "$SPARE"

lvm_confine "$FS" "$PV" "$SPARE"
FOREIGN=foreign$$
lvm pvcreate -q "$PV" >/dev/null && lvm vgcreate -q "$FOREIGN" "$PV" >/dev/null || die "foreign VG"
at_exit lvm pvremove -ff -y "$PV"
at_exit lvm vgremove -ff "$FOREIGN"

vol=$LQ_XSS_ROOT/volume/org.xen.xapi.storage.lvqcow
sr_uuid=$(cat /proc/sys/kernel/random/uuid)
create_json() { jq -nc --arg u "$sr_uuid" --argjson c "$1" \
	'{dbg: "t", uuid: $u, configuration: $c, name: "n", description: "d"}'; }
# refused METHOD JSON PATTERN: fails with the plugin's error JSON whose
# text matches PATTERN.
refused() {
	local rc=0
	"$vol/$1" --json <<<"$2" >out.json 2>err.txt || rc=$?
	[ $rc = 1 ] || die "$1 $2: exit $rc, not the error JSON: $(cat out.json err.txt)"
	jq -e . out.json >/dev/null || die "$1: no JSON: $(cat out.json)"
	grep -q -- "$3" out.json || die "$1 $2: error without '$3': $(cat out.json)"
	echo "refused: $1: $(jq -c '[.code, .params]' out.json | cut -c1-150)"
}
fs_sum() { dumpe2fs -h "$FS" 2>/dev/null | grep -E "UUID|Mount count|Last write" ; md5sum <fs.img; }
seqno() { lvm vgs --noheadings -o vg_seqno "$FOREIGN" | tr -d ' '; }
fs_before=$(fs_sum)
seq_before=$(seqno)

note "device-config refused before anything runs"
refused SR.create "$(create_json '{}')" "needs 'device'"
refused SR.create "$(create_json '{"device": 3}')" "TypeError"
refused SR.create "$(create_json '{"device": "/dev/null"}')" "not a block device"
refused SR.create "$(create_json '{"device": "/dev/../dev/loop0"}')" "not a plain /dev path"
refused SR.create "$(create_json '{"device": "relative"}')" "not a plain /dev path"
refused SR.create "$(create_json '{"device": "/dev/nonexistent-lq"}')" "No such file"

note "a device holding a filesystem"
refused SR.create "$(create_json "{\"device\": \"$FS\"}")" "holds data.*nothing changed.*ext4"
assert_eq "filesystem after the refusal" "$fs_before" "$(fs_sum)"
note "the same filesystem mounted"
mkdir mnt
mount "$FS" mnt || die "mount"
at_exit umount -lq "$PWD/mnt"
refused SR.create "$(create_json "{\"device\": \"$FS\"}")" "in use"
umount mnt
note "a device opened exclusively by another process"
python3 -c 'import os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY|os.O_EXCL); print("held", flush=True); time.sleep(60)' "$SPARE" >held.txt &
holder=$!
at_exit kill_quiet "$holder"
for _ in $(seq 100); do grep -q held held.txt && break; sleep 0.1; done
refused SR.create "$(create_json "{\"device\": \"$SPARE\"}")" "in use"
kill "$holder"; wait "$holder" 2>/dev/null || true
note "a PV of a foreign VG"
refused SR.create "$(create_json "{\"device\": \"$PV\"}")" "belongs to volume group $FOREIGN"

note "nothing changed"
e2fsck -fn "$FS" >/dev/null 2>&1 || die "the filesystem does not check clean"
assert_eq "foreign VG seqno" "$seq_before" "$(seqno)"
lvm pvs "$SPARE" >/dev/null 2>&1 && die "a PV appeared on $SPARE"

note "attach and probe where there is no SR"
refused SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$SPARE\"}}" "SR_does_not_exist"
refused SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$PV\"}}" "SR_does_not_exist"
refused SR.probe "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$FS\"}}" "SR_does_not_exist"

note "Plugin.query describes the lvqcow device-config"
"$vol/Plugin.query" --json <<<'{"dbg":"t"}' >q.json || die "Plugin.query"
jq -e '.configuration.device and .configuration.sr_uuid and (.configuration.path | not)' q.json \
	>/dev/null || die "Plugin.query configuration: $(jq -c .configuration q.json)"
