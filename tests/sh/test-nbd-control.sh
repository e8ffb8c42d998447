#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The control channel, with a chain the test changes underneath a
# connected client: pause (drain + flush), put a new overlay on top of the
# current image, reopen onto it, resume.  The client never reconnects; its
# later writes land in the overlay and the base stays as it was at the
# pause.  Also: failed reopens keep the old chain, status, SIGTERM drains.
. "$LQ_TOP/tests/lib.sh"
size=$((64 << 20))
lq img create base.qcow2 $size >/dev/null
qemu-io -f qcow2 -c 'write -P 0x5a 0 4M' base.qcow2 >/dev/null
nbd_start vol base.qcow2

# The long-lived client: phase 1 writes, then it waits for "go", sends a
# read that may have to wait for resume, then phase 2 writes and checks.
python3 "$LQ_TESTS/lq_nbd_control.py" client "$PWD/vol.sock" &
client=$!
at_exit kill_quiet $client
wait_file() { for ((i = 0; i < 600; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done; die "no $1"; }
wait_file phase1.done

note "pause: drained and flushed, the image can be read by others"
nbd_ctl vol pause
nbd_ctl vol status | grep -q 'state=paused' || die "status does not say paused"
raw_of base.qcow2 base.model
qcheck base.qcow2

note "a new overlay on the current top, reopen onto it, resume"
lq img create -b "$PWD/base.qcow2" -F qcow2 overlay.qcow2 $size >/dev/null
touch go                       # the client's next read waits for resume
# status counts it as held by the pause (and nothing passed the gate).
for ((i = 0; i < 300; i++)); do
	nbd_ctl vol status | grep -q ' pauses=1 paused_ms=[0-9]* held=1 ' && break
	sleep 0.1
done
[ $i -lt 300 ] || die "the paused read was not counted: $(nbd_ctl vol status)"
nbd_ctl vol status | grep -q ' inflight=0 ' || die "a request passed the paused gate"
nbd_ctl vol "reopen $PWD/overlay.qcow2	$PWD/base.qcow2" | grep -q "image=$PWD/overlay.qcow2" ||
	die "reopen did not report the new image"
nbd_ctl vol resume
wait $client || die "the client failed across the reopen"
[ -e phase2.done ] || die "the client did not finish"
st=$(nbd_ctl vol status)
[[ $st =~ \ pauses=1\ paused_ms=([0-9]+)\ held=1\  ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] ||
	die "status after the pause: $st"

note "failed reopens keep the current chain"
not nbd_ctl vol "reopen $PWD/missing.qcow2" >/dev/null
lq img create small.qcow2 1M >/dev/null
not nbd_ctl vol "reopen $PWD/small.qcow2" >/dev/null
nbd_ctl vol status | grep -q "state=running.*image=$PWD/overlay.qcow2" || die "status after failed reopens"
nbd_ctl vol reopen >/dev/null          # same image, while running
not nbd_ctl vol frobnicate >/dev/null
nbdcopy "$(nbd_uri vol)" view.raw

note "SIGTERM drains and flushes"
nbd_kill vol TERM
qcheck overlay.qcow2
qcheck base.qcow2
raw_of base.qcow2 base.after
cmp_files base.after base.model
raw_of overlay.qcow2 overlay.raw
cmp_files overlay.raw view.raw
python3 "$LQ_TESTS/lq_nbd_control.py" chain base.model overlay.raw
qemu-img map --output=json overlay.qcow2 | python3 "$LQ_TESTS/lq_nbd_control.py" own-below $((3 << 20))
