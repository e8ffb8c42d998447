#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/lvm-mlock.sh BUILD [ROUNDS]: in the test guest (run it through
# tests/vm/run.sh), what LVM's pinning of memory costs the commands that
# suspend devices.  On a VG of its own on /dev/vda (wiped), three 64 MiB
# LVs; per round, in one fresh bench/lvm-layer process each (the same
# libraries mapped as a call: libxml2 and its ICU data), three times:
# activate the three in one lvchange -aey, inflate one (lvresize of an
# active LV), deflate it, deactivate the three; once with
# src/lvm's activation{mlock_filter} and once without.  Prints the mean
# ms of each kind, with and without, and their ratio.
set -euo pipefail
build=$(realpath "$1")
rounds=${2:-3}
vg=lq-bench-mlock dev=${LQ_BENCH_DEV:-/dev/vda} tmp=/tmp/lq-bench-mlock
pvcreate -ff -y "$dev" >/dev/null
vgcreate -s 4m "$vg" "$dev" >/dev/null
trap 'vgremove -ff "$vg" >/dev/null 2>&1; pvremove -ff -y "$dev" >/dev/null 2>&1; rm -f "$tmp".*' EXIT
for l in a b c; do lvcreate -an -Zn -Wn -n "$l" -L 64m "$vg" >/dev/null 2>&1; done
plain="global{use_aio=0}"
filtered='global{use_aio=0} activation{mlock_filter=["/","["]}'
lines() { # CONFIG: the command lines of one run
	echo "lvs --config $plain $vg/a"      # loads the library: not counted
	for i in 1 2 3; do
		echo "lvchange --config '$1' -aey $vg/a $vg/b $vg/c"
		echo "lvresize --config '$1' -f -L 128m $vg/a"
		echo "lvresize --config '$1' -f -L 64m $vg/a"
		echo "lvchange --config '$1' -an $vg/a $vg/b $vg/c"
	done
}
for ((r = 1; r <= rounds; r++)); do
	for how in plain filtered; do
		lines "${!how}" >"$tmp.$how"
		# lvm-layer prints "MS VERB [failed]" a line, in the lines' order.
		"$build/bench/lvm-layer" -r "$tmp.$how" | sed '1d;/^total/d' |
			awk -v how="$how" 'BEGIN {split("lvchange-aey lvresize-inflate lvresize-deflate lvchange-an", kind, " ")}
				/failed/ {print "bench-lvm-mlock: a command failed" > "/dev/stderr"; exit 1}
				{print how, kind[(NR - 1) % 4 + 1], $1}'
	done
done >"$tmp.ms"
printf '| command | mlock of every mapping, ms | filtered, ms | ratio |\n|---|---|---|---|\n'
awk '{s[$1 "|" $2] += $3; n[$1 "|" $2]++; k[$2] = 1}
	END {for (c in k) {p = s["plain|" c] / n["plain|" c]; f = s["filtered|" c] / n["filtered|" c]
		printf "| %s | %.0f | %.0f | %.2f |\n", c, p, f, p / f}}' "$tmp.ms" | sort
echo "($rounds rounds of 3 each)"
