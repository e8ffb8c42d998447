#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Datapath.attach starts its NBD server in two steps: the launcher runs
# "lvqcow serve --control CTL --args-from FIFO" while the call makes the
# chain ready, then reads the rest of its arguments from the FIFO.
# 1. The server's side: arguments read until the FIFO closes; an empty
#    FIFO, a missing one, or the end of the --caller process (named by
#    pid and start time) ends it quietly; a file that is not a FIFO,
#    a list naming another control socket or another FIFO, a list not
#    ending with a NUL, and no arguments within the start timeout are
#    refused with a message.
# 2. The call's side: no FIFO is left after an attach; an attach that
#    fails after the launch (LVQCOW_FAULT_ERROR) ends its server before
#    it returns; a call killed after the launch takes its server with
#    it (the server watches its caller), and the next attach works.
. "$LQ_TOP/tests/lib.sh"
export LVQCOW_GC_AUTO=0
at_exit kill_servers
stop_staged() { pkill -f "serve --control $PWD/" 2>/dev/null || true; }
at_exit stop_staged
qemu-img create -q -f qcow2 img.qcow2 4M

# staged NAME: starts "serve --args-from" on NAME.fifo, copies stdin
# into the FIFO (the list, or nothing) and returns the server's status.
staged() {
	rm -f "$1.fifo"
	mkfifo "$1.fifo"
	lq serve --control "$PWD/$1.ctl" --args-from "$PWD/$1.fifo" 2>"$1.err" &
	local pid=$!
	# Bounded: a server that died before opening the FIFO never reads.
	timeout 30 cat >"$1.fifo" || die "$1: the FIFO was not read: $(cat "$1.err")"
	wait $pid
}
args_of() { # NAME: a whole list for the server NAME, NUL-separated
	printf 'serve\0--socket\0%s\0--control\0%s\0--export\0%s\0--pidfile\0%s\0%s\0' \
		"$PWD/$1.sock" "$PWD/$1.ctl" "$1" "$PWD/$1.pid" "$PWD/img.qcow2"
}
refused() { # NAME TEXT
	[ "$rc" = 1 ] || die "$1: status $rc, 1 expected"
	grep -q "$2" "$1.err" || die "$1: no '$2' in: $(cat "$1.err")"
	[ ! -e "$1.pid" ] || die "$1: a server started"
}

note "server: the arguments come through the FIFO"
args_of good | staged good || die "the staged server did not start: $(cat good.err)"
nbdinfo --size "$(nbd_uri good)" >size.txt || die "nbdinfo failed"
assert_eq "served size" 4194304 "$(cat size.txt)"
spid=$(nbd_pid good)
tr '\0' ' ' <"/proc/$spid/cmdline" | grep -q "serve --control $PWD/good.ctl --args-from" ||
	die "the server's command line does not name its control socket: $(tr '\0' ' ' <"/proc/$spid/cmdline")"
nbd_stop good

note "server: an empty FIFO or a missing one ends it quietly"
rc=0; staged empty </dev/null || rc=$?
assert_eq "status after an empty FIFO" 0 "$rc"
[ ! -s empty.err ] || die "messages after an empty FIFO: $(cat empty.err)"
rc=0; lq serve --control "$PWD/gone.ctl" --args-from "$PWD/gone.fifo" 2>gone.err || rc=$?
assert_eq "status without a FIFO" 0 "$rc"

note "server: the end of its caller ends it quietly"
sleep 60 &
sleeper=$!
start=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$sleeper/stat")
rm -f caller.fifo; mkfifo caller.fifo
lq serve --control "$PWD/caller.ctl" --args-from "$PWD/caller.fifo" --caller "$sleeper:$start" \
	2>caller.err &
spid=$!
sleep 0.3
alive $spid || die "the staged server did not wait for its caller: $(cat caller.err)"
kill $sleeper; wait $sleeper 2>/dev/null || true
for ((t = 0; t < 50; t++)); do alive $spid || break; sleep 0.1; done
alive $spid && die "the staged server outlived its caller"
rc=0; wait $spid || rc=$?
assert_eq "status after the caller's end" 0 "$rc"
[ ! -s caller.err ] || die "messages after the caller's end: $(cat caller.err)"
note "server: a caller whose pid is another process's by now is gone"
rc=0; lq serve --control "$PWD/reused.ctl" --args-from "$PWD/caller.fifo" --caller "$$:1" \
	2>reused.err || rc=$?
assert_eq "status with a reused pid" 0 "$rc"

note "server: what is refused"
for bad in "--caller 12" "--caller x:1" "--caller 0:5" "--caller 1:2x"; do
	rc=0; lq serve --control "$PWD/b.ctl" --args-from "$PWD/caller.fifo" $bad 2>b.err || rc=$?
	assert_eq "status of $bad" 1 "$rc"
	grep -q usage b.err || die "$bad: no usage: $(cat b.err)"
done
rc=0; lq serve --caller 1:1 --socket "$PWD/b.sock" --export b img.qcow2 2>b.err || rc=$?
assert_eq "status of --caller without --args-from" 1 "$rc"
rc=0; { printf 'serve\0--caller\0%s\0' 1:1; args_of callerin | tail -c +7; } |
	staged callerin || rc=$?
refused callerin "bad arguments"
echo data >plain.fifo
rc=0; lq serve --control "$PWD/plain.ctl" --args-from "$PWD/plain.fifo" 2>plain.err || rc=$?
refused plain "not a FIFO"
rc=0; args_of other | sed "s|$PWD/other.ctl|$PWD/elsewhere.ctl|" | staged other || rc=$?
refused other "bad arguments"
rc=0; args_of nonul | head -c -1 | staged nonul || rc=$?
refused nonul "bad arguments"
rc=0; { printf 'serve\0--args-from\0%s\0' "$PWD/x.fifo"; args_of nested | tail -c +7; } |
	staged nested || rc=$?
refused nested "bad arguments"
rc=0; lq serve --control "$PWD/mixed.ctl" --socket "$PWD/mixed.sock" --args-from "$PWD/m.fifo" \
	2>mixed.err || rc=$?
refused mixed "usage"
rm -f late.fifo; mkfifo late.fifo
start=$(date +%s)
rc=0; LVQCOW_NBD_START_TIMEOUT=1 lq serve --control "$PWD/late.ctl" --args-from "$PWD/late.fifo" \
	2>late.err || rc=$?
[ $(( $(date +%s) - start )) -lt 10 ] || die "the wait for arguments was not bounded"
refused late "no arguments in .* within 1000 ms"

note "call: an attach leaves no FIFO, and its server names its control socket"
SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$((4 << 20)))
key=$(xe vdi-list uuid="$VU" | sed -n 's/^ *location[^:]*: //p')
dir=$LVQCOW_RUNDIR/nbd/$key
servers() { pgrep -f "serve --control $dir/ctl" || true; }
xe vdi-attach uuid="$VU" domain=0 >/dev/null
ls "$dir" | grep -q '^args\.' && die "FIFO left after attach: $(ls "$dir")"
assert_eq "servers of the volume" "$(cat "$dir/pid")" "$(servers)"
xe vdi-detach uuid="$VU" domain=0
[ -z "$(servers)" ] || die "a server survives the detach: $(servers)"

note "call: an attach killed after the launch takes its server with it"
for ((i = 0; i < 5; i++)); do
	rc=0
	LVQCOW_FAULT=datapath-attach.chain-held xe vdi-attach uuid="$VU" domain=0 >/dev/null 2>&1 ||
		rc=$?
	[ "$rc" != 0 ] || die "the attach was not killed"
	for ((t = 0; t < 50; t++)); do [ -z "$(servers)" ] && break; sleep 0.1; done
	[ -z "$(servers)" ] || die "the killed attach left its server: $(servers)"
done
ls "$dir" | grep -q '^args\.' || die "the killed attaches left no FIFO (was the launch reached?)"
xe vdi-attach uuid="$VU" domain=0 >/dev/null
ls "$dir" | grep -q '^args\.' && die "FIFOs of killed calls left after an attach: $(ls "$dir")"
xe vdi-detach uuid="$VU" domain=0

note "call: an attach failing after the launch ends its server before it returns"
rc=0; LVQCOW_FAULT_ERROR=datapath-attach.chain-held xe vdi-attach uuid="$VU" domain=0 >failed.out 2>&1 ||
	rc=$?
[ "$rc" != 0 ] || die "the attach did not fail"
grep -q "fault injection: failed at datapath-attach.chain-held" failed.out ||
	die "unclear error: $(cat failed.out)"
[ -z "$(servers)" ] || die "the failed attach left its server: $(servers)"
ls "$dir" | grep -q '^args\.' && die "the failed attach left its FIFO: $(ls "$dir")"
xe vdi-attach uuid="$VU" domain=0 >/dev/null
xe vdi-detach uuid="$VU" domain=0
echo OK
