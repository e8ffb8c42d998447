#!/bin/bash
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
nbd_raw - "$PWD/vol.sock" <<'PY' &
import os, sys, time
import nbd_raw as n
c = n.Client(sys.argv[1], "vol", structured=True)
c.pwrite(1 << 20, b"\x11" * 65536)
c.pwrite(9 << 20, b"\x22" * 100000)
open("phase1.done", "w").close()
while not os.path.exists("go"):
    time.sleep(0.05)
assert c.pread(0, 4096) == b"\x5a" * 4096          # through the chain
c.pwrite(2 << 20, b"\x33" * 65536)                  # lands in the overlay
c.pwrite(1 << 20, b"\x44" * 4096)
c.flush()
assert c.pread(1 << 20, 8192) == b"\x44" * 4096 + b"\x11" * 4096
assert c.pread(9 << 20, 100000) == b"\x22" * 100000
c.close()
open("phase2.done", "w").close()
PY
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
nbd_ctl vol "reopen $PWD/overlay.qcow2	$PWD/base.qcow2" | grep -q "image=$PWD/overlay.qcow2" ||
	die "reopen did not report the new image"
nbd_ctl vol resume
wait $client || die "the client failed across the reopen"
[ -e phase2.done ] || die "the client did not finish"

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
python3 - base.model overlay.raw <<'PY'
import sys
base, top = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
M = 1 << 20
assert base[M:M + 65536] == b"\x11" * 65536 and base[2 * M:2 * M + 4096] == b"\x5a" * 4096
assert top[2 * M:2 * M + 65536] == b"\x33" * 65536
assert top[M:M + 4096] == b"\x44" * 4096 and top[0:4096] == b"\x5a" * 4096
PY
qemu-img map --output=json overlay.qcow2 | python3 -c '
import json, sys
own = [e for e in json.load(sys.stdin) if e["data"] and e["depth"] == 0]
assert own and all(e["start"] < (3 << 20) for e in own), own
'
