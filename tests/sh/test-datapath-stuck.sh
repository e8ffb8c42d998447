#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Datapath calls stay bounded whatever the server's state: idle control
# clients cannot lock the plugin out, a stopped (SIGSTOP) server makes
# activate fail and detach clean up in bounded time, and detach never
# signals a process that merely has the pid a dead server once had.
. "$LQ_TOP/tests/lib.sh"
# txe SECONDS ARGS...: xe, killed (status 124) after SECONDS.
txe() { timeout "$1" python3 "$LQ_TESTS/mock/xss.py" xe "${@:2}"; }
at_exit kill_servers
export LVQCOW_CONTROL_TIMEOUT=1 LVQCOW_NBD_STOP_TIMEOUT=3

SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$((16 << 20)))
dir=$(attached_dir "$VU")

note "12 idle control clients do not lock the plugin out"
python3 "$LQ_TESTS/nbd_hold.py" "$dir/ctl" 12 60 >held.txt &
holder=$!
at_exit kill_quiet $holder
for ((i = 0; i < 50; i++)); do [ -s held.txt ] && break; sleep 0.1; done
grep -q "held 12" held.txt || die "holder: $(cat held.txt)"
start=$(date +%s)
txe 20 vdi-activate uuid="$VU" domain=0 || die "activate with idle control clients"
txe 20 vdi-deactivate uuid="$VU" domain=0 || die "deactivate with idle control clients"
[ $(($(date +%s) - start)) -le 10 ] || die "calls took $(($(date +%s) - start)) s"
kill_quiet $holder

note "a stopped server: activate fails, detach stops it, all in bounded time"
pid=$(cat "$dir/pid")
kill -STOP "$pid"
start=$(date +%s)
rc=$(rc_of txe 20 vdi-activate uuid="$VU" domain=0)
[ "$rc" = 1 ] || die "activate on a stopped server: status $rc (124 is a hang)"
rc=$(rc_of txe 20 vdi-deactivate uuid="$VU" domain=0)
[ "$rc" != 124 ] || die "deactivate on a stopped server hangs"
txe 30 vdi-detach uuid="$VU" domain=0 || die "detach of a stopped server"
[ $(($(date +%s) - start)) -le 25 ] || die "took $(($(date +%s) - start)) s"
! alive "$pid" || die "the stopped server $pid is still alive"
[ ! -e "$dir/pid" ] || die "pid file left behind"

note "detach never signals a process that reused a dead server's pid"
xe vdi-attach uuid="$VU" domain=0 >/dev/null
pid=$(cat "$dir/pid")
kill -KILL "$pid"
while alive "$pid"; do sleep 0.05; done
sleep 300 &
stranger=$!
at_exit kill_quiet $stranger
echo $stranger >"$dir/pid"
xe vdi-detach uuid="$VU" domain=0 || die "detach after the server died"
sleep 0.2
alive $stranger || die "detach killed an unrelated process"
echo "ok"
