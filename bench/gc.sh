#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# gc.sh BUILD: `lvqcow img coalesce` (auto, up, down) against `qemu-img
# commit` (child into parent), `qemu-img rebase -b ''` (safe mode: the
# parent streamed into the child) and a plain copy of the bytes the
# cheaper direction must copy, in one run, on fresh copies of the same
# files.  Scenarios (SIZE virtual, default 1G: every
# run restores up to SIZE of image from a pristine copy and the disk here
# writes ~200 MiB/s; 64 KiB clusters):
#   a) a leaf that rewrote 80% of a full parent;
#   b) a leaf with 2% new data over a full parent;
#   c) the middle of base <- mid <- top, mid holding 30%: mid with base.
# Before every timed run the files that contender writes are restored
# from the pristine copies, then `sync` and, when this host lets us, the
# page cache is dropped, so every contender starts cold (see DROP in the
# output).  Every figure is the median of RUNS (default 3) by wall time,
# with CPU time (user + system) beside it.  qemu-img runs with -t
# writeback (its default) and flushes at the end as lvqcow does; the copy
# is `cp` followed by `sync -d` of the copy.
# Then, with BUILD installed the way tests/run.sh installs it and every call
# run as xapi-storage-script runs it (bench/gclive.py):
#   s) a client's NBD request latency during live snapshots;
#   w) the same during `lvqcow gc --once` of a non-leaf node under the
#      attached volume (the final switch pauses and moves its server);
#   l) the same for a leaf coalesce of the attached volume (skipped with a
#      message while the collector leaves attached leaves alone);
#   v) Volume.create latency while a coalesce of BENCH_SIZE (default 1G)
#      runs, against Volume.create alone.
# SCEN picks scenarios (default abcswlv).  Results: docs/bench-gc.md.
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
LQ="$build/lvqcow"
RUNS=${RUNS:-3}
SIZE=${SIZE:-1G}
SCEN=${SCEN:-abcswlv}
BENCH_SIZE=${BENCH_SIZE:-1G}
work=$(mktemp -d /var/tmp/lq-bench-gc.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir src w

MiB=$((1 << 20))
size=$(numfmt --from=iec "$SIZE")
chunks=$((size / MiB))

DROP=no
if (sync && echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then DROP=yes; fi

cold() { sync; [ "$DROP" = no ] || echo 3 > /proc/sys/vm/drop_caches; }

# One timed run of CMD: prints "wall cpu" seconds (cpu = user + system).
timed() {
	/usr/bin/time -f "%e %U %S" -o "$work/.time" "$@" >"$work/.out" 2>&1 ||
		{ echo "failed: $*: $(tail -2 "$work/.out")" >&2; exit 1; }
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/.time"
}

# run RESTORE CMD...: median "wall cpu" of RUNS; before each run the files
# named in RESTORE (space separated) are copied back from src/, then cold;
# after the last run too, so the next contender finds w/ pristine.
run() {
	local restore=$1 i f
	shift
	for ((i = 0; i < RUNS; i++)); do
		for f in $restore; do cp "src/$f" "w/$f"; done
		cold
		(cd w && timed "$@")
	done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
	for f in $restore; do cp "src/$f" "w/$f"; done
}

# qemu-io commands writing 1 MiB chunk i with pattern P when (i % M) < K.
chunk_writes() {
	local p=$1 m=$2 k=$3 i
	for ((i = 0; i < chunks; i++)); do
		((i % m < k)) && printf -- "-c\nwrite -P %d %d %d\n" "$p" $((i * MiB)) "$MiB"
	done
	return 0
}

# qemu-io commands writing one 64 KiB cluster of every STEP, pattern P.
cluster_writes() {
	local p=$1 step=$2 c
	for ((c = 0; c < size / 65536; c += step)); do
		printf -- "-c\nwrite -P %d %d 65536\n" "$p" $((c * 65536))
	done
}

qio() {
	local img=$1
	shift
	mapfile -t args
	qemu-io -f qcow2 "${args[@]}" "$img" >/dev/null
}

new_img() {
	local img=$1 backing=${2:-}
	qemu-img create -q -f qcow2 -o cluster_size=65536 ${backing:+-b "$backing" -F qcow2} \
		"src/$img" "$size"
}

# IMG written whole with pattern 1, in 1 GiB requests (qemu-io's limit is 2 GiB).
full_write() {
	local off
	for ((off = 0; off < size; off += 1 << 30)); do
		printf -- "-c\nwrite -P 1 %d %d\n" "$off" $((size - off < 1 << 30 ? size - off : 1 << 30))
	done | qio "$1"
}

full_parent() {
	new_img p.qcow2
	full_write src/p.qcow2
}

build_a() {
	full_parent
	new_img c.qcow2 p.qcow2
	chunk_writes 2 5 4 | qio src/c.qcow2
}

build_b() {
	full_parent
	new_img c.qcow2 p.qcow2
	cluster_writes 2 50 | qio src/c.qcow2
}

# c: base <- mid <- top; "child" is mid, "parent" is base.
build_c() {
	new_img b.qcow2
	full_write src/b.qcow2
	new_img m.qcow2 b.qcow2
	chunk_writes 2 10 3 | qio src/m.qcow2
	new_img t.qcow2 m.qcow2
	chunk_writes 3 10 1 | qio src/t.qcow2
}

ratio() { echo "scale=2; $1 / ($2 + 0.0005)" | bc; }

# row NAME "WALL CPU" COMMIT_WALL REBASE_WALL
row() {
	local w c
	read -r w c <<< "$2"
	printf "| %-36s | %8.2f s | %8.2f s | %6sx | %6sx |\n" "$1" "$w" "$c" \
		"$(ratio "$3" "$w")" "$(ratio "$4" "$w")"
}

# scenario NAME CHILD PARENT: build, time every contender, print a table.
scenario() {
	local name=$1 child=$2 parent=$3 pick up down less t_auto t_up t_down t_commit t_rebase t_cp
	rm -f src/* w/*
	"build_$name"
	cp src/* w/
	pick=$(cd w && "$LQ" img coalesce --direction auto "$child" | head -1)
	read -r up down <<< "$(echo "$pick" | sed 's/.*up copies \([0-9]*\) bytes, down \([0-9]*\).*/\1 \2/')"
	cp src/* w/
	less=$((up < down ? up : down))
	head -c "$less" < <(yes lvqcow) > src/data.bin
	t_auto=$(run "$child $parent" "$LQ" img coalesce -q --direction auto "$child")
	t_up=$(run "$parent" "$LQ" img coalesce -q --direction up "$child")
	t_down=$(run "$child" "$LQ" img coalesce -q --direction down "$child")
	t_commit=$(run "$parent" qemu-img commit -q -d -t writeback -f qcow2 "$child")
	t_rebase=$(run "$child" qemu-img rebase -q -t writeback -f qcow2 -b '' "$child")
	t_cp=$(run "" sh -c "cp ../src/data.bin data.copy && sync -d data.copy")
	rm -f w/data.copy src/data.bin
	local cw rw
	cw=${t_commit%% *}
	rw=${t_rebase%% *}
	printf "\n%s: %s\n(up copies %d MiB, down %d MiB)\n\n" "$name" "$pick" \
		$((up / MiB)) $((down / MiB))
	printf "| %-36s | %10s | %10s | %7s | %7s |\n" contender wall cpu "commit/x" "rebase/x"
	echo "|---|---|---|---|---|"
	row "lvqcow img coalesce (auto)" "$t_auto" "$cw" "$rw"
	row "lvqcow img coalesce --direction up" "$t_up" "$cw" "$rw"
	row "lvqcow img coalesce --direction down" "$t_down" "$cw" "$rw"
	row "qemu-img commit -d" "$t_commit" "$cw" "$rw"
	row "qemu-img rebase -b ''" "$t_rebase" "$cw" "$rw"
	row "cp + sync of $((less / MiB)) MiB" "$t_cp" "$cw" "$rw"
}

echo "lvqcow $LQ, qemu-img $(qemu-img --version | head -1 | awk '{print $3}'), $(nproc) CPUs," \
	"runs=$RUNS, size=$SIZE, cluster 64 KiB, drop caches before each run: $DROP"
[[ $SCEN != *a* ]] || scenario a c.qcow2 p.qcow2
[[ $SCEN != *b* ]] || scenario b c.qcow2 p.qcow2
[[ $SCEN != *c* ]] || scenario c m.qcow2 b.qcow2
if [[ $SCEN == *[swlv]* ]]; then
	make -s -C "$here/.." install BUILD="$build" DESTDIR="$work/root" >/dev/null
	mkdir "$work/live"
	LVQCOW_RUNDIR=$work/live/run BENCH_SIZE=$(numfmt --from=iec "$BENCH_SIZE") \
		python3 "$here/gclive.py" "$work/root" "$work/live" "$SCEN"
fi
