#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# No client can stall or starve another, and the server's memory and log
# are bounded: unfinished handshakes time out and cannot lock others
# out, a client that does not read its replies is cut off while others
# keep working, request memory has a global cap, and a client hanging up
# is one log line, not one per request.
. "$LQ_TOP/tests/lib.sh"
# hostile MODE ARGS...: exec'd, so that $! of a background one is python.
hostile() { env PYTHONPATH="$LQ_TESTS" python3 "$LQ_TESTS/nbd_hostile.py" "$@"; }
# thostile SECONDS MODE ARGS...: killed (status 124) after SECONDS.
thostile() { timeout "$1" env PYTHONPATH="$LQ_TESTS" python3 "$LQ_TESTS/nbd_hostile.py" "${@:2}"; }
# bg_wait FILE: until FILE has a line (10 s).
bg_wait() { local i; for ((i = 0; i < 100; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done; die "no output in $1"; }
qemu-img create -q -f qcow2 img.qcow2 256M

note "a handshake that never ends is dropped after the deadline"
LVQCOW_NBD_HANDSHAKE_TIMEOUT=2 nbd_start hs img.qcow2
t=$(thostile 20 late "$PWD/hs.sock") || die "not dropped: $t"
[[ $t =~ ^closed\ after\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -le 5 ] || die "late: $t"
nbd_stop hs

note "128 half-open connections do not lock a good client out"
LVQCOW_NBD_HANDSHAKE_TIMEOUT=120 nbd_start ho img.qcow2
python3 "$LQ_TESTS/nbd_hold.py" "$PWD/ho.sock" 128 120 >held.txt &
at_exit kill_quiet $!
bg_wait held.txt
grep -q "held 128" held.txt || die "holder: $(cat held.txt)"
t=$(thostile 15 io "$PWD/ho.sock" ho 10) ||
	die "a good client could not get through"
nbd_kill ho

note "a client that never reads its replies does not stall the others"
LVQCOW_NBD_SEND_TIMEOUT=2 LVQCOW_NBD_MAX_MEMORY_MIB=64 nbd_start nr img.qcow2
env PYTHONPATH="$LQ_TESTS" python3 "$LQ_TESTS/nbd_hostile.py" noread "$PWD/nr.sock" nr 4000 262144 >noread.txt &
at_exit kill_quiet $!
sleep 1
t=$(thostile 20 io "$PWD/nr.sock" nr 200) ||
	die "I/O of a good client stalled behind a non-reading one"
python3 -c "import sys; sys.exit(float(sys.argv[1]) > 10)" "$t" || die "200 round trips took $t s"
for ((i = 0; i < 100; i++)); do grep -q "does not read its replies" nr.log && break; sleep 0.1; done
grep -q "does not read its replies" nr.log || die "the non-reading client was not cut off"
nbd_kill nr

note "request memory has a global cap: 4 clients x 48 MiB of writes, paused"
LVQCOW_NBD_MAX_MEMORY_MIB=64 nbd_start mem img.qcow2
nbd_ctl mem pause >/dev/null
pids=()
for i in 1 2 3 4; do
	env PYTHONPATH="$LQ_TESTS" python3 "$LQ_TESTS/nbd_hostile.py" bigwrites "$PWD/mem.sock" mem 12 $((4 << 20)) >"bw.$i" &
	pids+=($!)
	at_exit kill_quiet $!
done
sleep 4
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(nbd_pid mem)/status")
echo "== server RSS with 192 MiB of writes pushed: $((rss / 1024)) MiB"
nbd_ctl mem resume >/dev/null
for p in "${pids[@]}"; do wait "$p" || die "a writer failed: $(cat bw.*)"; done
[ "$rss" -lt $((120 << 10)) ] || die "server RSS $((rss / 1024)) MiB over the 120 MiB bound"
nbd_stop mem

note "a client that sends 3000 reads and hangs up is one log line"
nbd_start hu img.qcow2
hostile hangup "$PWD/hu.sock" hu 3000 >/dev/null
sleep 2
nbd_ctl hu status >/dev/null
size=$(stat -c %s hu.log)
[ "$size" -lt 4096 ] || die "log grew to $size bytes: $(tail -3 hu.log)"
grep -q "command .* at" hu.log && die "a disconnect logged as an engine failure"
nbd_stop hu

note "the log is rotated past its size cap"
LVQCOW_NBD_LOG_MAX_KIB=16 nbd_start rot img.qcow2
hostile badmagic "$PWD/rot.sock" rot 800 >/dev/null
sleep 1.5
[ -e rot.log.1 ] || die "no rotation: log is $(stat -c %s rot.log) bytes"
[ "$(stat -c %s rot.log)" -lt $((64 << 10)) ] || die "log $(stat -c %s rot.log) bytes"
nbd_stop rot
echo ok
