#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the VM test bed: two builds of lvqcow side by side on one SR, for a
# change whose effect is smaller than the noise between two bench runs.
# Both serve the same volume (10 volumes in the SR, a chain of three
# under the one attached, 64 MiB each): each round runs Datapath.attach
# then Datapath.detach with A's binary, then with B's, so that both see
# the same host load.  Prints each build's means, and the mean of the
# paired differences B - A with its standard error.  Each call is
# started from bash with stdin and stdout on files, timed with
# $EPOCHREALTIME around it.  Takes /dev/vda.  The guest's root is the
# host's filesystem, so the binaries are named by their host paths, in
# the command (run.sh passes only its own variables):
#   ./tests/vm/run.sh build \
#     "LQ_AB_A=/path/to/old/lvqcow LQ_AB_B=$PWD/build/lvqcow ROUNDS=40 bash $PWD/bench/lvm-ab.sh"
set -eu
rounds=${ROUNDS:-20}
cd /tmp
for v in A B; do
	src=LQ_AB_$v
	[ -x "${!src:-}" ] || { echo "lvm-ab: $src must name an lvqcow binary" >&2; exit 2; }
	mkdir -p "/tmp/ab-$v/bin"
	cp "${!src}" "/tmp/ab-$v/bin/lvqcow"
	for p in $("/tmp/ab-$v/bin/lvqcow" list-calls); do
		mkdir -p "/tmp/ab-$v/xss/$(dirname "$p")"
		ln -sf "/tmp/ab-$v/bin/lvqcow" "/tmp/ab-$v/xss/$p"
	done
done
PATH=/tmp/ab-B/bin:$PATH
. "$LQ_TOP/tests/vm/guest/lib-lvqcow.sh"
sr_uuid=5e1f2d3c-4b5a-4987-8654-3210fedcba98
call "$vol" SR.create "{\"dbg\":\"ab\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"ab\",\"description\":\"\"}" >/dev/null
sr=$(call "$vol" SR.attach "{\"dbg\":\"ab\",\"configuration\":{\"device\":\"$dev\"}}" | tr -d '"')
for i in 1 2 3 4 5 6 7 8 9 10; do
	res=$(call "$vol" Volume.create "{\"dbg\":\"ab\",\"sr\":\"$sr\",\"name\":\"v\",\"description\":\"\",\"size\":67108864,\"sharable\":false}")
done
uri=$(printf '%s' "$res" | sed -n 's/.*"uri": *\[ *"\([^"]*\)".*/\1/p')
key=$(printf '%s' "$res" | field key)
for i in 1 2; do
	call "$vol" Volume.snapshot "{\"dbg\":\"ab\",\"sr\":\"$sr\",\"key\":\"$key\"}" >/dev/null
done
sleep 1
while pgrep -f "lvqcow gc" >/dev/null; do sleep 0.2; done
printf '{"dbg":"ab","uri":"%s","persistent":true}' "$uri" >/tmp/ab-open.json
printf '{"dbg":"ab","uri":"%s","domain":"0"}' "$uri" >/tmp/ab-call.json
call "$dp" Datapath.open "$(cat /tmp/ab-open.json)" >/dev/null
run() { # BUILD CALL: the call's ms
	local t0=$EPOCHREALTIME
	"/tmp/ab-$1/xss/datapath/lvqcow/$2" --json </tmp/ab-call.json >/tmp/ab-out 2>/tmp/ab-err ||
		fail "$1 $2: $(cat /tmp/ab-out /tmp/ab-err)"
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", (b - a) * 1e3}'
}
for ((r = 0; r < rounds; r++)); do
	for v in A B; do
		echo "$v $(run $v Datapath.attach) $(run $v Datapath.detach)"
	done
done >/tmp/ab-rows
awk '
	{ n[$1]++; a[$1, n[$1]] = $2; d[$1, n[$1]] = $3; sa[$1] += $2; sd[$1] += $3 }
	END {
		for (i = 1; i <= n["A"]; i++) {
			x = a["B", i] - a["A", i]; y = d["B", i] - d["A", i]
			ma += x; qa += x * x; md += y; qd += y * y
		}
		k = n["A"]; ma /= k; md /= k
		printf "rounds %d\n", k
		printf "A: attach mean %.0f ms, detach mean %.0f ms\n", sa["A"] / k, sd["A"] / k
		printf "B: attach mean %.0f ms, detach mean %.0f ms\n", sa["B"] / k, sd["B"] / k
		printf "B - A: attach %+.0f ms (se %.0f), detach %+.0f ms (se %.0f)\n",
			ma, sqrt((qa / k - ma * ma) / (k - 1)), md, sqrt((qd / k - md * md) / (k - 1))
	}' /tmp/ab-rows
