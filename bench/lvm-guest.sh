#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/lvm-guest.sh BUILD OUT: runs in the test guest (bench/lvm-vm.sh
# starts it through tests/vm/run.sh).  An lvqcow SR on /dev/vda, filled
# by Volume.create (1 MiB volumes, LQ_BENCH_JOBS calls at once; beyond
# LQ_BENCH_CALL_FILL volumes by bench/lvm-fill) to each count of
# LQ_BENCH_COUNTS; at each count, LQ_BENCH_ROUNDS rounds of
# Volume.create (64 MiB), Volume.snapshot, Volume.clone, Datapath.open,
# attach and activate, Datapath.deactivate, detach and close, and
# Volume.destroy (of the three new volumes), each call the
# installed executable run as xapi-storage-script runs it (JSON on
# stdin, --json), with LVQCOW_DEBUG=1 so that it logs its LVM commands.
# Each Datapath call is its own row; so is each sequence of three.
# After each call of the first LQ_BENCH_REPLAYS rounds (default: all),
# bench/lvm-replay.py runs those commands again in process and as the
# lvm binary ("-" in the other rounds' rows).  Rows go to OUT/rows (one per call:
# count method round whole-ms lvm-commands in-process-ms first-ms
# binary-ms), each call's commands and their in-process ms to
# OUT/cmds/, the fill times and VG figures to OUT/log.
set -euo pipefail
build=$(realpath "$1")
out=$2
here=$(cd "$(dirname "$0")" && pwd)
counts=${LQ_BENCH_COUNTS:-10 100 1000}
rounds=${LQ_BENCH_ROUNDS:-3}
replays=${LQ_BENCH_REPLAYS:-$rounds}
jobs=${LQ_BENCH_JOBS:-3}
dev=${LQ_BENCH_DEV:-/dev/vda}
work=/tmp/lq-bench-lvm
rm -rf "$work" "$out"
mkdir -p "$work" "$out/cmds"
xss=$work/xss
# Installed as on a host, on a local filesystem (the guest's /tmp, ext4
# on its scratch disk): run from the checkout's 9p mount, each exec of
# the 2 MB binary costs 25-45 ms more (measured with lvqcow --help), and
# a call execs it twice (the call, its server or collector).  The
# replay's lvm-layer is copied beside it, like for like.
bin=$work/bin
mkdir -p "$bin"
cp "$build/lvqcow" "$build/bench/lvm-layer" "$build/bench/lvm-fill" "$bin/"
for p in $("$bin/lvqcow" list-calls); do
	mkdir -p "$xss/$(dirname "$p")"
	ln -sf "$bin/lvqcow" "$xss/$p"
done
vol=$xss/volume/org.xen.xapi.storage.lvqcow
dp=$xss/datapath/lvqcow
mib=1048576
log() { echo "$*" | tee -a "$out/log"; }
fail() { log "FAIL: $*"; exit 1; }
field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p"; }
call() { # DIR METHOD JSON: untimed; the result in $res
	res=$(printf '%s' "$3" | "$1/$2" --json) || fail "$2: $res"
}
# The collector runs detached after some calls: wait for it, so that a
# timed call never shares the guest's CPUs with it.  The first pause
# covers its start (fork to exec, when it does not carry its name yet).
gc_wait() { sleep 0.1; while pgrep -f "lvqcow gc --detached" >/dev/null; do sleep 0.05; done; }

# tcall DIR METHOD JSON: one timed call; the result in $res; adds its ms,
# its LVM command count and its commands' replayed cost to the sums.
# The call is started by spawn-ms.py, as lvm-replay.py starts each `lvm`
# command it times: one process start on either side.
tcall() {
	local rc ms
	gc_wait
	printf '%s' "$3" >"$work/req"
	read -r rc t0 ms < <(LVQCOW_DEBUG=1 "$here/spawn-ms.py" "$work/req" "$work/res" "$work/err" \
		"$1/$2" --json)
	res=$(cat "$work/res")
	t1=$(awk -v a="$t0" -v m="$ms" 'BEGIN {printf "%.6f", a + m / 1e3}')
	# A failed call is logged, not fatal: the other counts still run.
	[ "$rc" = 0 ] || log "FAILED: n=$n round $r $2: $res $(tail -n 3 "$work/err")"
	# With collect set, the end of the collector it started, before the
	# replay of its own commands runs.
	[ -z "${collect:-}" ] || { gc_wait; tc=$EPOCHREALTIME; }
	account "$2" "$work/err"
}
# tcollect: the collector the last call started (Volume.destroy leaves
# its LVs to it), timed from that call's start (t0) to its end (tc), with
# the LVM commands its log shows (it inherits LVQCOW_DEBUG; the log is
# emptied before the call, so a call that starts none shows none).
tcollect() {
	t1=$tc
	account collector "$gclog"
}
# account NAME LOG: the sums for one timed process, t0 to t1.
account() {
	local cmds=$work/cmds.$1
	sed -n 's/^[^ ]*\[[0-9]*\]: debug: lvm: //p' "$2" |
		grep -Ev '^[a-z]+: rc -?[0-9]+, class ' >"$cmds" || true
	sum_ms=$(awk -v a="$sum_ms" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.1f", a + (t1 - t0) * 1e3}')
	sum_n=$((sum_n + $(wc -l <"$cmds")))
	[ "$r" -le "$replays" ] || { sum_in=- sum_first=- sum_bin=-; return 0; }
	rm -f "$cmds.times"
	read -r inproc first binary < <("$here/lvm-replay.py" "$bin/lvm-layer" "$vg" "$cmds")
	sum_in=$(awk -v a="$sum_in" -v b="$inproc" 'BEGIN {printf "%.1f", a + b}')
	sum_first=$(awk -v a="$sum_first" -v b="$first" 'BEGIN {printf "%.1f", a + b}')
	sum_bin=$(awk -v a="$sum_bin" -v b="$binary" 'BEGIN {printf "%.1f", a + b}')
	echo "# $1: $(tail -n 1 "$cmds.times" 2>/dev/null)" >>"$work/calls"
	[ ! -s "$cmds" ] || paste -d' ' <(sed '$d' "$cmds.times" | cut -d' ' -f1) "$cmds" >>"$work/calls"
}
begin() { sum_ms=0 sum_n=0 sum_in=0 sum_first=0 sum_bin=0; : >"$work/calls"; }
# end NAME: one row for the measured call NAME (its tcalls since begin).
end() {
	echo "$n $1 $r $sum_ms $sum_n $sum_in $sum_first $sum_bin" >>"$out/rows"
	[ "$r" -gt 1 ] || cp "$work/calls" "$out/cmds/$n.$1"
}

# A VM's start (open, attach, activate) and stop (deactivate, detach,
# close): each call its own row, and the three together one more.
seq_begin() { seq="0 0 0 0 0"; }
seq_add() {
	seq=$(awk -v a="$seq" -v b="$sum_ms $sum_n $sum_in $sum_first $sum_bin" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= 5; i++) printf "%s ", (x[i] == "-" || y[i] == "-") ? "-" : x[i] + y[i] }')
}
seq_end() { echo "$n $1 $r $seq" >>"$out/rows"; }
dpcall() { begin; tcall "$dp" "$1" "$2"; end "$1"; seq_add; }

sr_uuid=0f1e2d3c-4b5a-4987-8654-3210fedcba98
vg=lvqcow-$sr_uuid
gclog=/run/lvqcow/sr/$sr_uuid/gc.log
call "$vol" SR.create "{\"dbg\":\"b\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"bench\",\"description\":\"\"}"
call "$vol" SR.attach "{\"dbg\":\"b\",\"configuration\":{\"device\":\"$dev\"}}"
sr=$(tr -d '"' <<<"$res")
fill_one() {
	printf '%s' "{\"dbg\":\"f\",\"sr\":\"$sr\",\"name\":\"f\",\"description\":\"\",\"size\":$mib,\"sharable\":false}" |
		"$vol/Volume.create" --json >/dev/null 2>>"$work/fill.log" || echo x >>"$work/fill-failed"
}
# fill FROM TO: by the calls, $jobs at once, up to LQ_BENCH_CALL_FILL
# volumes (default 100); beyond, by bench/lvm-fill (the same code in
# $jobs processes that each make many volumes).
fill() {
	local i k=$(($2 - $1)) each
	if [ "$2" -le "$call_fill" ]; then
		how="calls"
		for ((i = $1; i < $2; i++)); do
			fill_one &
			[ "$(jobs -rp | wc -l)" -lt "$jobs" ] || wait -n || true
		done
		wait
		return 0
	fi
	how="lvm-fill"
	for ((i = 0; i < jobs; i++)); do
		each=$(((k + i) / jobs))
		[ "$each" -eq 0 ] || { "$bin/lvm-fill" lvqcow "$sr" "$each" >/dev/null 2>>"$work/fill.log" ||
			echo x >>"$work/fill-failed"; } &
	done
	wait
}
call_fill=${LQ_BENCH_CALL_FILL:-100}
have=0
for n in $counts; do
	t0=$EPOCHREALTIME
	fill "$have" "$n"
	from=$have have=$n
	[ ! -s "$work/fill-failed" ] || fail "$(wc -l <"$work/fill-failed") fill calls failed"
	gc_wait
	log "fill $from -> $n volumes ($how, $jobs at once): $(awk -v t0="$t0" -v t1="$EPOCHREALTIME" -v k=$((n - from)) \
		'BEGIN {printf "%.0f s, %.2f s a volume", t1 - t0, k ? (t1 - t0) / k : 0}')"
	log "n=$n LVs $(lvs --noheadings "$vg" | wc -l); VG $(vgs --noheadings --units k -o vg_mda_size,vg_mda_free,vg_free "$vg" | xargs)" \
		"(mda size, mda free, free); metadata text $(vgcfgbackup -f "$work/vg.txt" "$vg" >/dev/null 2>&1 && wc -c <"$work/vg.txt") bytes"
	for ((r = 1; r <= rounds; r++)); do
		begin; tcall "$vol" Volume.create "{\"dbg\":\"b\",\"sr\":\"$sr\",\"name\":\"v\",\"description\":\"\",\"size\":$((64 * mib)),\"sharable\":false}"; end Volume.create
		k=$(field key <<<"$res")
		uri=$(sed -n 's/.*"uri": *\[ *"\([^"]*\)".*/\1/p' <<<"$res")
		begin; tcall "$vol" Volume.snapshot "{\"dbg\":\"b\",\"sr\":\"$sr\",\"key\":\"$k\"}"; end Volume.snapshot
		s=$(field key <<<"$res")
		begin; tcall "$vol" Volume.clone "{\"dbg\":\"b\",\"sr\":\"$sr\",\"key\":\"$k\"}"; end Volume.clone
		c=$(field key <<<"$res")
		seq_begin
		dpcall Datapath.open "{\"dbg\":\"b\",\"uri\":\"$uri\",\"persistent\":true}"
		dpcall Datapath.attach "{\"dbg\":\"b\",\"uri\":\"$uri\",\"domain\":\"0\"}"
		dpcall Datapath.activate "{\"dbg\":\"b\",\"uri\":\"$uri\",\"domain\":\"0\"}"
		seq_end Datapath.open+attach+activate
		seq_begin
		dpcall Datapath.deactivate "{\"dbg\":\"b\",\"uri\":\"$uri\",\"domain\":\"0\"}"
		dpcall Datapath.detach "{\"dbg\":\"b\",\"uri\":\"$uri\",\"domain\":\"0\"}"
		dpcall Datapath.close "{\"dbg\":\"b\",\"uri\":\"$uri\"}"
		seq_end Datapath.deactivate+detach+close
		for d in "$c" "$s" "$k"; do
			[ ! -f "$gclog" ] || : >"$gclog"
			collect=1
			begin; tcall "$vol" Volume.destroy "{\"dbg\":\"b\",\"sr\":\"$sr\",\"key\":\"$d\"}"; end Volume.destroy
			collect=
			begin; tcollect; end "Volume.destroy+collector"
		done
		log "n=$n round $r done"
	done
done
log "done"
