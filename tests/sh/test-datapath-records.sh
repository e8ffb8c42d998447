#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The datapath's records: an attached volume cannot be destroyed, a
# detach cleans up even when the volume's SR is gone, and a huge domain
# string is refused without breaking later attaches and detaches.
. "$LQ_TOP/tests/lib.sh"
at_exit kill_servers
# wait_dead PID: up to 10 s.
wait_dead() { local i; for ((i = 0; i < 100; i++)); do alive "$1" || return 0; sleep 0.1; done; die "process $1 still alive"; }

SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$((16 << 20)))
uri=$(xe vdi-list uuid="$VU" | sed -n 's/^ *uri[^:]*: //p')
[[ $uri == lvqcow://* ]] || die "no datapath uri: $uri"
key=$(xe vdi-list uuid="$VU" | sed -n 's/^ *location[^:]*: //p')
dir=$LVQCOW_RUNDIR/nbd/$key

note "Volume.destroy of an attached (not active) volume is VDI_IN_USE"
xe vdi-attach uuid="$VU" domain=0 >/dev/null
e=$(xe vdi-destroy uuid="$VU" 2>&1 || true)
[[ $e == *SR_BACKEND_FAILURE_24* ]] || die "destroy of an attached volume: $e"
pid=$(cat "$dir/pid")
alive "$pid" || die "the server died"
xe vdi-detach uuid="$VU" domain=0
wait_dead "$pid"

note "a 600 KB domain string is refused; attach and detach still work"
rc=$(rc_of python3 "$LQ_TESTS/dp_call.py" "$LQ_DATAPATH" Datapath.attach "$uri" 614400)
[ "$rc" = 1 ] || die "attach with a 600 KB domain: status $rc"
e=$(python3 "$LQ_TESTS/dp_call.py" "$LQ_DATAPATH" Datapath.attach "$uri" 614400 2>/dev/null || true)
[[ $e == *Invalid_argument*"domain name longer"* ]] || die "no clear error for a 600 KB domain: $e"
[ ! -e "$dir/attached" ] || [ "$(stat -c %s "$dir/attached")" -lt 4096 ] || die "attached record grew"
python3 "$LQ_TESTS/dp_call.py" "$LQ_DATAPATH" Datapath.attach "$uri" 255 >/dev/null || die "attach, 255-byte domain"
xe vdi-attach uuid="$VU" domain=0 >/dev/null || die "attach after a refused domain"
pid=$(cat "$dir/pid")
python3 "$LQ_TESTS/dp_call.py" "$LQ_DATAPATH" Datapath.detach "$uri" 614400 >/dev/null ||
	die "detach with a 600 KB domain"
python3 "$LQ_TESTS/dp_call.py" "$LQ_DATAPATH" Datapath.detach "$uri" 255 >/dev/null
alive "$pid" || die "the server stopped while domain 0 is attached"
xe vdi-detach uuid="$VU" domain=0
wait_dead "$pid"

note "detach stops the server and cleans up when the volume's SR is gone"
xe vdi-attach uuid="$VU" domain=0 >/dev/null
pid=$(cat "$dir/pid")
mv sr sr.gone
python3 "$LQ_TESTS/dp_call.py" "$LQ_DATAPATH" Datapath.detach "$uri" 1 >/dev/null || die "detach"
wait_dead "$pid"
[ ! -e "$dir/pid" ] && [ ! -e "$dir/sock" ] || die "runtime files left: $(ls "$dir")"
mv sr.gone sr
echo ok
