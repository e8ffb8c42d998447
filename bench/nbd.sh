#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/nbd.sh BUILD: the NBD server against qemu-nbd, same chains, same
# clients, one run.  Prints each figure for both servers and the ratio
# lvqcow/qemu-nbd (above 1 means lvqcow is faster, for both throughput and
# IOPS).  Results and method: docs/bench-nbd.md.
#
#   BENCH_DIR      scratch directory (default: a new one under /tmp)
#   BENCH_SECONDS  length of each fio run (default 10)
#   BENCH_REPS     runs per figure and server, the best is kept (default 1)
#   BENCH_DATA_MIB data in the 20 GiB image (default 1536)
#   BENCH_KEEP=1   keep the scratch directory
#
# Both servers listen on UNIX sockets.  Every figure is taken in two modes,
# on the same images:
#   direct    lvqcow serve --cache none (its default, O_DIRECT) against
#             qemu-nbd --cache=none --aio=native
#   buffered  lvqcow serve --cache writeback against qemu-nbd
#             --cache=writeback --aio=threads (qemu-nbd's defaults)
# Both servers fdatasync on FLUSH/FUA in both modes.
#   BENCH_MODES    "direct buffered" (default) or either one
set -euo pipefail
build=$(realpath "${1:-build}")
bin=$build/lvqcow
secs=${BENCH_SECONDS:-10}
reps=${BENCH_REPS:-1}
data_mib=${BENCH_DATA_MIB:-1536}
dir=${BENCH_DIR:-$(mktemp -d /tmp/lq-bench-nbd.XXXXXX)}
mkdir -p "$dir"
cd "$dir"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
}
trap cleanup EXIT
for c in qemu-img qemu-io qemu-nbd nbdcopy fio python3; do
	command -v $c >/dev/null || { echo "bench-nbd: $c is missing (make deps)" >&2; exit 1; }
done

log() { echo "# $*" >&2; }

make_chains() {
	log "building a 20 GiB image with $data_mib MiB of data, and a 30-deep chain on it"
	qemu-img create -q -f qcow2 base.qcow2 20G
	python3 - "$data_mib" <<'PY' | qemu-io -f qcow2 base.qcow2 >/dev/null
import os, sys
mib = int(sys.argv[1])
for i in range(0, mib, 64):
    os.makedirs("seed", exist_ok=True)
    p = "seed/%d.bin" % (i % 256)
    if not os.path.exists(p):
        open(p, "wb").write(os.urandom(64 << 20))
    print("write -s %s %dM 64M" % (p, i))
PY
	local prev=base.qcow2
	for i in $(seq 1 29); do
		qemu-img create -q -f qcow2 -b "$prev" -F qcow2 "l$i.qcow2"
		qemu-io -f qcow2 -c "write -P $i $(( (i * 37) % (data_mib - 8) ))M 8M" "l$i.qcow2" >/dev/null
		prev=l$i.qcow2
	done
	rm -rf seed
	head -c 1G /dev/urandom >upload.raw
}

# chain_of IMAGE: "--backing PATH" for each image below IMAGE, nearest
# first, as the headers name them (lvqcow serve never reads a header's
# backing name: without these it would serve IMAGE alone).
chain_of() {
	qemu-img info --backing-chain --output=json "$1" | python3 -c '
import json, os, sys
for i in json.load(sys.stdin)[1:]:
    print("--backing"); print(os.path.realpath(i["filename"]))'
}

# start_server KIND NAME IMAGE [ro]: KIND lvqcow or qemu; socket $dir/NAME.sock
start_server() {
	local kind=$1 name=$2 img=$3 ro=${4:-} lc=none qc="--cache=none --aio=native"
	rm -f "$name.sock"
	[ "$mode" = direct ] || lc=writeback qc="--cache=writeback --aio=threads"
	if [ "$kind" = lvqcow ]; then
		local chain
		mapfile -t chain < <(chain_of "$img")
		"$bin" serve --foreground ${ro:+--readonly} --cache $lc --socket "$dir/$name.sock" \
			--export "$name" "${chain[@]}" "$img" 2>"$name.log" &
	else
		# shellcheck disable=SC2086
		qemu-nbd ${ro:+--read-only} --socket="$dir/$name.sock" --export-name="$name" \
			-f qcow2 $qc --shared=16 --persistent "$img" 2>"$name.log" &
	fi
	pids+=($!)
	for ((i = 0; i < 300; i++)); do [ -S "$name.sock" ] && return 0; sleep 0.05; done
	echo "bench-nbd: $kind did not start" >&2; cat "$name.log" >&2; exit 1
}

stop_servers() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	pids=()
}

uri() { echo "nbd+unix:///$1?socket=$dir/$1.sock"; }

# timed CMD...: seconds taken
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	python3 -c "print('%.3f' % ($t1 - $t0))"
}

copy_null() { python3 -c "print('%.0f' % ($data_mib / $(timed nbdcopy "$(uri "$1")" null:)))"; }
copy_up() { python3 -c "print('%.0f' % (1024 / $(timed nbdcopy upload.raw "$(uri "$1")")))"; }

fio_iops() {
	local name=$1 rw=$2 qd=$3
	fio --name=b --ioengine=nbd --uri="$(uri "$name")" --rw="$rw" --bs=4k \
		--iodepth="$qd" --size="${data_mib}m" --time_based --runtime="$secs" \
		--ramp_time=1 --randrepeat=1 --output-format=json 2>/dev/null |
		sed -n '/^{/,$p' |
		python3 -c "import json,sys; j=json.load(sys.stdin)['jobs'][0]; print('%.0f' % (j['read']['iops'] + j['write']['iops']))"
}

# row TEST UNIT CMD ARGS...: runs CMD against lvqcow (export L) and qemu-nbd
# (export Q) alternately, BENCH_REPS times, keeps the best of each.
row() {
	local test=$1 unit=$2 a=0 b=0 v
	shift 2
	for ((r = 0; r < reps; r++)); do
		v=$("$@" L); [ "$v" -gt "$a" ] && a=$v
		v=$("$@" Q); [ "$v" -gt "$b" ] && b=$v
	done
	printf '%-9s%-24s %9s %-5s %8s %-5s %7s\n' "$mode" "$test" "$a" "$unit" "$b" "$unit" \
		"$(python3 -c "print('%.2f' % ($a / $b if $b else 0))")"
}

rr() { fio_iops "$2" randread "$1"; }
rw() { fio_iops "$2" randwrite "$1"; }

[ -e l29.qcow2 ] || make_chains
log "lvqcow serve vs qemu-nbd $(qemu-nbd --version | head -1 | awk '{print $2}'), ${secs}s per fio run, best of $reps"
printf '%-9s%-24s %14s %14s %8s\n' mode test lvqcow qemu-nbd ratio
for mode in ${BENCH_MODES:-direct buffered}; do
for depth in 1 30; do
	[ $depth = 1 ] && top=base.qcow2 || top=l29.qcow2
	start_server lvqcow L "$top" ro
	start_server qemu Q "$top" ro
	row "copy-to-null-depth$depth" MiB/s copy_null
	row "randread-qd1-depth$depth" IOPS rr 1
	row "randread-qd32-depth$depth" IOPS rr 32
	stop_servers
	qemu-img create -q -f qcow2 -b "$dir/$top" -F qcow2 wl.qcow2
	qemu-img create -q -f qcow2 -b "$dir/$top" -F qcow2 wq.qcow2
	start_server lvqcow L wl.qcow2
	start_server qemu Q wq.qcow2
	row "randwrite-qd1-depth$depth" IOPS rw 1
	row "randwrite-qd32-depth$depth" IOPS rw 32
	stop_servers
	rm -f wl.qcow2 wq.qcow2
done
qemu-img create -q -f qcow2 ul.qcow2 20G
qemu-img create -q -f qcow2 uq.qcow2 20G
start_server lvqcow L ul.qcow2
start_server qemu Q uq.qcow2
row copy-from-file MiB/s copy_up
stop_servers
rm -f ul.qcow2 uq.qcow2
done
