#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/nbd-vm.sh: run in the VM guest (make bench-nbd-vm, through
# tests/vm/run.sh): fio on the /dev/nbdN of an attached lvqcow volume
# against fio on a raw LV of the same size in the same VG, on /dev/vda,
# direct I/O, one run.  Prints IOPS (4k) or MiB/s (1M) for both and the
# ratio nbd/raw (above 1 means the block device is faster).  As a floor
# for the kernel NBD path under the same emulation, a third column:
# qemu-nbd --connect (ioctls) serving the raw LV itself, --cache=none
# --aio=native (BENCH_QEMU_NBD=0 leaves it out).  Figures and method:
# docs/bench-nbd.md.
#
#   BENCH_SECONDS  length of each fio run (default 5)
#   BENCH_MIB      volume and LV size (default 256)
set -euo pipefail
[ -n "${LQ_VM_BUILD:-}" ] || { echo "bench-nbd-vm: runs in the VM guest (make bench-nbd-vm)" >&2; exit 1; }
export PATH=$LQ_VM_BUILD:$PATH LVQCOW_NBD_DEVICE=1
secs=${BENCH_SECONDS:-5}
mib=${BENCH_MIB:-256}
cd /tmp
# shellcheck source=../tests/vm/guest/lib-lvqcow.sh
. "$LQ_TOP/tests/vm/guest/lib-lvqcow.sh"
for c in fio python3 lvcreate; do command -v $c >/dev/null || fail "$c is missing"; done

sr_uuid=7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918
vg=lvqcow-$sr_uuid
call "$vol" SR.create "{\"dbg\":\"b\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"bench\",\"description\":\"\"}" >/dev/null
sr=$(call "$vol" SR.attach "{\"dbg\":\"b\",\"configuration\":{\"device\":\"$dev\"}}" | tr -d '"')
v=$(call "$vol" Volume.create "{\"dbg\":\"b\",\"sr\":\"$sr\",\"name\":\"b\",\"description\":\"\",\"size\":$((mib << 20)),\"sharable\":false}")
uri=$(echo "$v" | sed -n 's/.*"uri": *\[ *"\([^"]*\)".*/\1/p')
a=$(call "$dp" Datapath.attach "{\"dbg\":\"b\",\"uri\":\"$uri\",\"domain\":\"0\"}")
call "$dp" Datapath.activate "{\"dbg\":\"b\",\"uri\":\"$uri\",\"domain\":\"0\"}" >/dev/null
nbd=$(echo "$a" | grep -o '"/dev/nbd[0-9]*"' | sort -u | tr -d '"')
[ -b "$nbd" ] || fail "no block device from Datapath.attach: $a"
lvcreate -q -y -L "${mib}M" -n bench-raw "$vg" >/dev/null
raw=/dev/$vg/bench-raw
[ -b "$raw" ] || fail "no raw LV"
qdev=""
bench_cleanup() {
	[ -z "$qdev" ] || qemu-nbd -d "$qdev" >/dev/null 2>&1 || true
	printf '{"dbg":"b","uri":"%s","domain":"0"}' "$uri" | "$dp/Datapath.detach" --json >/dev/null 2>&1 || true
	lq_cleanup
}
trap bench_cleanup EXIT

# Both fully written first: the volume's clusters all allocated, so a
# read never takes the image's unallocated (zero) path.
for d in "$nbd" "$raw"; do dd if=/dev/zero of="$d" bs=1M count="$mib" oflag=direct 2>/dev/null; done

# A free /dev/nbdM for qemu-nbd: no pid, no size.
if [ "${BENCH_QEMU_NBD:-1}" = 1 ]; then
	command -v qemu-nbd >/dev/null || fail "qemu-nbd is missing"
	for d in /sys/block/nbd*; do
		[ -e "$d/pid" ] || [ "$(cat "$d/size")" != 0 ] || { qdev=/dev/$(basename "$d"); break; }
	done
	[ -n "$qdev" ] || fail "no free /dev/nbdM for qemu-nbd"
	qemu-nbd -c "$qdev" -f raw --cache=none --aio=native "$raw"
	for _ in $(seq 50); do [ -e "/sys/block/$(basename "$qdev")/pid" ] && break; sleep 0.2; done
fi

# run DEV RW BS QD: IOPS (4k) or MiB/s (1M) of one fio run.
run() {
	fio --name=b --filename="$1" --rw="$2" --bs="$3" --iodepth="$4" --direct=1 \
		--ioengine=libaio --size="${mib}M" --time_based --runtime="$secs" --ramp_time=1 \
		--output-format=json | python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
k = "read" if j["read"]["io_bytes"] else "write"
print("%.1f" % (j[k]["bw_bytes"] / 1048576 if sys.argv[1] == "1M" else j[k]["iops"]))' "$3"
}
echo "guest loadavg before: $(cat /proc/loadavg)"
printf '%-18s %10s %10s %7s %10s %7s\n' test nbd raw-lv ratio qemu-nbd ratio
ratio() { python3 -c "print('%.2f' % ($1 / $2 if $2 else 0))"; }
for t in "write 1M 4" "read 1M 4" "randread 4k 1" "randread 4k 32" "randwrite 4k 1" "randwrite 4k 32"; do
	set -- $t
	n=$(run "$nbd" "$@") r=$(run "$raw" "$@") q=- qr=-
	[ -z "$qdev" ] || { q=$(run "$qdev" "$@"); qr=$(ratio "$q" "$r"); }
	unit=IOPS
	[ "$2" = 1M ] && unit=MiB/s
	printf '%-18s %10s %10s %7s %10s %7s  %s\n' "$1 $2 QD$3" "$n" "$r" "$(ratio "$n" "$r")" "$q" "$qr" "$unit"
done
echo "guest loadavg after: $(cat /proc/loadavg)"
