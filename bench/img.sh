#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# img.sh BUILD: `lvqcow img` against qemu-img on the same files, same
# conditions, one run: allocation queries on a sparse 2 TiB image, check,
# commit of 1 GiB against qemu-img commit and a plain copy, and sequential
# reads through chains of depth 1, 10 and 30.  Every figure is the median
# of RUNS runs (default 3) from the page cache (no cache drop is possible
# here; every contender sees the same warm files), as wall time and as CPU
# time (user + system, steadier on a shared machine).  PARTS=abcd selects
# sections.  Results: docs/bench-img.md.
set -euo pipefail
build=$(realpath "${1:-build}")
LQ="$build/lvqcow"
RUNS=${RUNS:-3}
PARTS=${PARTS:-abcd}     # which sections to run
work=$(mktemp -d /tmp/lq-bench-img.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# One timed run of CMD: prints "wall cpu" seconds (cpu = user + system).
timed() {
	/usr/bin/time -f "%e %U %S" -o "$work/.time" "$@" >/dev/null 2>&1 || true
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/.time"
}

# median_time CMD...: median "wall cpu" of RUNS runs (by wall time).
median_time() {
	local i
	for ((i = 0; i < RUNS; i++)); do timed "$@"; done |
		sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

# prep_time PREP CMD...: like median_time, with PREP run untimed before each.
prep_time() {
	local prep=$1 i
	shift
	for ((i = 0; i < RUNS; i++)); do
		eval "$prep" >/dev/null 2>&1
		timed "$@"
	done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

# row WHAT "OURS_WALL OURS_CPU" "THEIRS_WALL THEIRS_CPU": one table line;
# the ratio is theirs / ours (above 1: lvqcow is faster).
row() {
	local ow oc tw tc
	read -r ow oc <<< "$2"
	read -r tw tc <<< "$3"
	printf "| %-46s | %7.3f s | %7.3f s | %5.1fx | %7.3f s | %7.3f s | %5.1fx |\n" "$1" \
		"$ow" "$tw" "$(echo "scale=3; $tw / ($ow + 0.0005)" | bc)" \
		"$oc" "$tc" "$(echo "scale=3; $tc / ($oc + 0.0005)" | bc)"
}
header() {
	local peer=${2:-qemu-img}
	printf "\n%s\n\n| %-46s | %9s | %9s | %6s | %9s | %9s | %6s |\n" "$1" "operation" \
		"lvqcow" "$peer" "ratio" "lq cpu" "peer cpu" "ratio"
	echo "|---|---|---|---|---|---|---|"
}

echo "lvqcow $LQ, qemu-img $(qemu-img --version | head -1 | awk '{print $3}'), $(nproc) CPUs, runs=$RUNS"

want() { [[ $PARTS == *$1* ]]; }

# (a) allocation queries on a sparse 2 TiB image (also used by (b))
if want a || want b; then
qemu-img create -q -f qcow2 big.qcow2 2T
python3 -c 'import random
r = random.Random(7)
print("\n".join("write -P %d %d 64k" % (i % 250 + 1, r.randrange(2 << 40 >> 16) << 16) for i in range(2000)))' > writes
args=()
while read -r w; do args+=(-c "$w"); done < writes
qemu-io -f qcow2 "${args[@]}" big.qcow2 >/dev/null
fi
if want a; then
header "(a) 2 TiB image, 2000 scattered 64 KiB writes"
row "allocated (vs qemu-img map --output=json)" "$(median_time "$LQ" img allocated big.qcow2)" \
	"$(median_time qemu-img map --output=json big.qcow2)"
row "bitmap (vs qemu-img map --output=json)" "$(median_time "$LQ" img bitmap big.qcow2)" \
	"$(median_time qemu-img map --output=json big.qcow2)"
row "map --json (vs qemu-img map --output=json)" "$(median_time "$LQ" img map --json big.qcow2)" \
	"$(median_time qemu-img map --output=json big.qcow2)"
fi

# (b) check
if want b; then
header "(b) check"
row "check, the 2 TiB sparse image" "$(median_time "$LQ" img check big.qcow2)" \
	"$(median_time qemu-img check big.qcow2)"
qemu-img create -q -f qcow2 data.qcow2 1G
qemu-io -f qcow2 -c 'write -P 1 0 1G' data.qcow2 >/dev/null
row "check, 1 GiB of data" "$(median_time "$LQ" img check data.qcow2)" \
	"$(median_time qemu-img check data.qcow2)"
fi

# (c) commit of 1 GiB into an empty parent
if want c; then
qemu-img create -q -f qcow2 p0.qcow2 1G
cp p0.qcow2 p.qcow2
qemu-img create -q -f qcow2 -b p.qcow2 -F qcow2 c.qcow2 1G
qemu-io -f qcow2 -c 'write -P 3 0 1G' c.qcow2 >/dev/null
cp p0.qcow2 qp.qcow2
cp c.qcow2 qc0.qcow2 && qemu-img rebase -u -f qcow2 -F qcow2 -b qp.qcow2 qc0.qcow2
header "(c) commit 1 GiB of data into an empty parent"
ours=$(prep_time "cp p0.qcow2 p.qcow2" "$LQ" img commit c.qcow2)
theirs=$(prep_time "cp p0.qcow2 qp.qcow2; cp qc0.qcow2 qc.qcow2" qemu-img commit -q -d qc.qcow2)
copy=$(prep_time "rm -f copy.raw" dd if=c.qcow2 of=copy.raw bs=4M conv=fdatasync)
row "commit (vs qemu-img commit -d)" "$ours" "$theirs"
row "commit (vs dd bs=4M conv=fdatasync of the child)" "$ours" "$copy"
fi

# (d) sequential read through chains
if want d; then
qemu-img create -q -f qcow2 l0.qcow2 1G
qemu-io -f qcow2 -c 'write -P 5 0 1G' l0.qcow2 >/dev/null
for i in $(seq 1 29); do
	qemu-img create -q -f qcow2 -b "l$((i - 1)).qcow2" -F qcow2 "l$i.qcow2"
	qemu-io -f qcow2 -c "write -P $i $((i * 32))M 1M" "l$i.qcow2" >/dev/null
done
header "(d) read 1 GiB through a chain to /dev/null" "qemu-img convert"
for top in 0 9 29; do
	row "read, chain depth $((top + 1))" "$(median_time "$LQ" img read "l$top.qcow2" 0 1G)" \
		"$(median_time qemu-img convert -n --target-image-opts "l$top.qcow2" driver=null-co,size=1G)"
done
fi
echo
echo "qemu-img convert target: driver=null-co (reads everything, writes nothing)"
