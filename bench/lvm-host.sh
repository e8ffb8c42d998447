#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/lvm-host.sh BUILD: the cost of LVM commands on this host, metadata
# only (a loop device, global/activation=0), at several LV counts:
#  - in process through src/lvm (bench/lvm-layer.c): the first command of
#    a process (dlopen, lvm2_init and the command), then lvs, lvcreate
#    and lvremove each;
#  - the lvm binary, one process per command (what a plugin that runs
#    `lvm` pays), with use_aio=0 as the layer uses it;
#  - "lvqcow lvm lvs": one whole per-call process running one command.
# Needs root and losetup.  LQ_BENCH_LVS (default "10 100 1000") and
# LQ_BENCH_ROUNDS (default 20).  A measurement, not a test.
set -euo pipefail
build=$(realpath "${1:-build}")
counts=${LQ_BENCH_LVS:-10 100 1000}
rounds=${LQ_BENCH_ROUNDS:-20}
work=$(mktemp -d /tmp/lq-bench-lvm.XXXXXX)
vg=lvqcow-bench$$
loop=""
cleanup() {
	lvm vgremove -ff "$vg" >/dev/null 2>&1 || true
	[ -z "$loop" ] || { lvm pvremove -ff -y "$loop" >/dev/null 2>&1 || true; losetup -d "$loop"; }
	rm -rf "$work"
}
trap cleanup EXIT
truncate -s 64G "$work/pv.img"
loop=$(losetup -f --show "$work/pv.img")
. "$(dirname "$0")/../tests/lvm-confine.sh"
cd "$work" && lvm_confine "$loop" && cd - >/dev/null
"$build/lvqcow" lvm pv-create "$loop" 64 >/dev/null
"$build/lvqcow" lvm vg-create "$vg" "$loop" >/dev/null

# mean_ms N CMD...: mean wall time of N runs of CMD, in ms.
mean_ms() {
	local n=$1 start end
	shift
	start=$(date +%s%N)
	for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1; done
	end=$(date +%s%N)
	echo $(( (end - start) / n / 1000 ))e-3 | awk '{printf "%.1f", $1}'
}
binary_cycle() {
	lvm lvcreate --config 'global{use_aio=0}' -an -Zn -n bench-x -L 4m "$vg" &&
		lvm lvremove --config 'global{use_aio=0}' "$vg/bench-x"
}

echo "LVM command cost in ms (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%6s | %-44s | %-30s | %s\n' LVs "in process: first / lvs / lvcreate / lvremove" \
	"lvm binary: lvs / create+remove" "lvqcow lvm lvs"
have=0
for n in $counts; do
	{ for ((i = have; i < n; i++)); do echo "lvcreate -an -Zn -n f$i -L 4m $vg"; done; } |
		lvm >/dev/null 2>&1
	have=$n
	read -r _ first _ lvs _ create _ remove < <("$build/bench/lvm-layer" "$vg" "$rounds")
	blvs=$(mean_ms "$rounds" lvm lvs --config 'global{use_aio=0}' --reportformat json "$vg")
	bcyc=$(mean_ms "$rounds" binary_cycle)
	ours=$(mean_ms "$rounds" "$build/lvqcow" lvm lvs "$vg")
	printf '%6s | %-44s | %-30s | %s\n' "$n" "$first / $lvs / $create / $remove" "$blvs / $bcyc" "$ours"
done
