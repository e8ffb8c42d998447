#!/bin/bash
# bench/nbd.sh BUILD: the NBD server against qemu-nbd, same chains, same
# clients, one run.  Prints each figure for both servers and the ratio
# lvqcow/qemu-nbd (above 1 means lvqcow is faster, for both throughput and
# IOPS).  Results and method: docs/bench-nbd.md.
#
#   BENCH_DIR      scratch directory (default: a new one under /tmp)
#   BENCH_SECONDS  length of each fio run (default 10)
#   BENCH_DATA_MIB data in the 20 GiB image (default 1536)
#   BENCH_KEEP=1   keep the scratch directory
#
# Both servers listen on UNIX sockets.  qemu-nbd runs with
# --cache=writeback --aio=threads (its defaults, stated explicitly): page
# cache, flush on FLUSH/FUA — the same as lvqcow serve, which uses the page
# cache and fdatasync on FLUSH/FUA.
set -euo pipefail
build=$(realpath "${1:-build}")
bin=$build/lvqcow
secs=${BENCH_SECONDS:-10}
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

# start_server KIND NAME IMAGE: KIND lvqcow or qemu; socket $dir/NAME.sock
start_server() {
	local kind=$1 name=$2 img=$3
	rm -f "$name.sock"
	if [ "$kind" = lvqcow ]; then
		"$bin" serve --foreground --socket "$dir/$name.sock" --export "$name" "$img" 2>"$name.log" &
	else
		qemu-nbd --socket="$dir/$name.sock" --export-name="$name" -f qcow2 \
			--cache=writeback --aio=threads --shared=16 --persistent "$img" 2>"$name.log" &
	fi
	pids+=($!)
	for ((i = 0; i < 300; i++)); do [ -S "$name.sock" ] && return 0; sleep 0.05; done
	echo "bench-nbd: $kind did not start" >&2; cat "$name.log" >&2; exit 1
}

stop_server() {
	local pid=${pids[-1]}
	kill "$pid"; wait "$pid" 2>/dev/null || true
	unset 'pids[-1]'
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

fio_iops() {
	local name=$1 rw=$2 qd=$3
	fio --name=b --ioengine=nbd --uri="$(uri "$name")" --rw="$rw" --bs=4k \
		--iodepth="$qd" --size="${data_mib}m" --time_based --runtime="$secs" \
		--ramp_time=1 --randrepeat=1 --output-format=json 2>/dev/null |
		sed -n '/^{/,$p' |
		python3 -c "import json,sys; j=json.load(sys.stdin)['jobs'][0]; print('%.0f' % (j['read']['iops'] + j['write']['iops']))"
}

# measure KIND: prints "test value unit" lines for one server
measure() {
	local kind=$1 top
	for depth in 1 30; do
		[ $depth = 1 ] && top=base.qcow2 || top=l29.qcow2
		start_server "$kind" r "$top"
		echo "copy-to-null-depth$depth $(python3 -c "print('%.0f' % ($data_mib / $(timed nbdcopy "$(uri r)" null:)))") MiB/s"
		echo "randread-qd1-depth$depth $(fio_iops r randread 1) IOPS"
		echo "randread-qd32-depth$depth $(fio_iops r randread 32) IOPS"
		stop_server
		qemu-img create -q -f qcow2 -b "$dir/$top" -F qcow2 "w-$kind.qcow2"
		start_server "$kind" w "w-$kind.qcow2"
		echo "randwrite-qd1-depth$depth $(fio_iops w randwrite 1) IOPS"
		echo "randwrite-qd32-depth$depth $(fio_iops w randwrite 32) IOPS"
		stop_server
		rm -f "w-$kind.qcow2"
	done
	qemu-img create -q -f qcow2 "up-$kind.qcow2" 20G
	start_server "$kind" u "up-$kind.qcow2"
	echo "copy-from-file $(python3 -c "print('%.0f' % (1024 / $(timed nbdcopy upload.raw "$(uri u)")))") MiB/s"
	stop_server
	rm -f "up-$kind.qcow2"
}

[ -e l29.qcow2 ] || make_chains
log "measuring lvqcow serve"
measure lvqcow >lvqcow.txt
log "measuring qemu-nbd $(qemu-nbd --version | head -1 | awk '{print $2}')"
measure qemu >qemu.txt
printf '%-24s %14s %14s %8s\n' test lvqcow qemu-nbd ratio
paste lvqcow.txt qemu.txt | while read -r t a unit _ b _; do
	printf '%-24s %9s %-5s %8s %-5s %7s\n' "$t" "$a" "$unit" "$b" "$unit" \
		"$(python3 -c "print('%.2f' % ($a / $b if $b else 0))")"
done
