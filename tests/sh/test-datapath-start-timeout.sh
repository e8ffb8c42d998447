#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Datapath.attach never waits without bound for its server to start: a
# server whose setup stalls (here: a stale listener with a full backlog
# on the volume's socket path, so setup's probe of it blocks for the whole
# control timeout) is killed after LVQCOW_NBD_START_TIMEOUT and the call
# fails with a clear error; once the obstacle is gone, attach works.
source "$LQ_TOP/tests/lib.sh"
export LVQCOW_GC_AUTO=0
at_exit kill_servers
SRU=$(new_sr sr)
VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=1048576)
dir=$LVQCOW_RUNDIR/nbd/$VU
mkdir -p "$dir"
python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(0)
held = []
for _ in range(2):               # fill the backlog: the next connect blocks
    c = socket.socket(socket.AF_UNIX); c.setblocking(False)
    try: c.connect(sys.argv[1])
    except BlockingIOError: pass
    held.append(c)
open("stalled", "w").close()
time.sleep(300)' "$dir/sock" &
stale=$!
at_exit kill_quiet $stale
for _ in $(seq 100); do [ -e stalled ] && break; sleep 0.1; done
[ -e stalled ] || die "no stale listener"

note "setup stalls for 30 s; the start timeout (1 s) ends the call first"
start=$(date +%s)
rc=0
LVQCOW_CONTROL_TIMEOUT=30 LVQCOW_NBD_START_TIMEOUT=1 \
	xe vdi-attach uuid="$VU" domain=0 >out.txt 2>&1 || rc=$?
secs=$(( $(date +%s) - start ))
[ $rc -ne 0 ] || die "attach succeeded through a stalled setup: $(cat out.txt)"
[ $secs -lt 15 ] || die "attach took ${secs}s"
grep -q "was not ready within 1000 ms" out.txt || die "unclear error: $(cat out.txt)"
for p in $(pgrep -f "serve --control $dir/ctl" || true); do
	alive "$p" && die "the stalled server $p was left running"
done

note "with the obstacle gone the volume attaches and detaches"
kill $stale; wait $stale 2>/dev/null || true
xe vdi-attach uuid="$VU" domain=0 >/dev/null
xe vdi-detach uuid="$VU" domain=0
[ ! -e "$dir/pid" ] || die "server left after detach"
echo OK
