#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A server alive but unreachable on its control socket (its socket file
# gone): attach refuses to start a second server on the same chain, and
# detach still stops it, proven by its pid file and command line, never
# by the pid alone.
. "$LQ_TOP/tests/lib.sh"
at_exit kill_servers
servers_of() { pgrep -f -- "--control $1( |\$)" | wc -l; }
export LVQCOW_CONTROL_TIMEOUT=1 LVQCOW_NBD_STOP_TIMEOUT=3

SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$((16 << 20)))
dir=$(attached_dir "$VU")
pid=$(cat "$dir/pid")
mv "$dir/ctl" "$dir/ctl.away"

note "attach does not start a second server"
rc=$(rc_of xe vdi-attach uuid="$VU" domain=1)
[ "$rc" = 1 ] || die "attach beside an unreachable server: status $rc"
[ "$(servers_of "$dir/ctl")" = 1 ] || die "$(servers_of "$dir/ctl") servers for one volume"
alive "$pid" || die "the server died"

note "detach stops the unreachable server"
xe vdi-detach uuid="$VU" domain=0 || die "detach"
for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
! alive "$pid" || die "the unreachable server $pid still runs after detach"
[ ! -e "$dir/pid" ] || die "pid file left behind"

note "a pid file naming another program's process proves nothing"
xe vdi-attach uuid="$VU" domain=0 >/dev/null
pid=$(cat "$dir/pid")
mv "$dir/ctl" "$dir/ctl.away"
sleep 300 &
stranger=$!
at_exit kill_quiet $stranger
echo $stranger >"$dir/pid"
xe vdi-detach uuid="$VU" domain=0 || die "detach"
alive $stranger || die "detach killed an unrelated process"
kill_quiet "$pid"
echo ok
