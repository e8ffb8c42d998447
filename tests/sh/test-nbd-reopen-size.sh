#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reopen and the export size: the export may grow under connected
# clients but never shrink below what a connected client was told, nor
# below the size the server started with; with no client that saw more,
# a reopen may go back from a bigger image to the original one.
. "$LQ_TOP/tests/lib.sh"
qemu-img create -q -f qcow2 a.qcow2 16M
qemu-img create -q -f qcow2 big.qcow2 32M
nbd_start vol a.qcow2
size_of() { nbd_ctl vol status | sed -n 's/.* size=\([0-9]*\) .*/\1/p'; }
# client_at SECONDS: a connected client in the background; prints its size.
client_at() {
	env PYTHONPATH="$LQ_TESTS" python3 "$LQ_TESTS/nbd_hold.py" --client "$PWD/vol.sock" vol "$1" >"client.$2" &
	at_exit kill_quiet $!
	local i
	for ((i = 0; i < 100; i++)); do [ -s "client.$2" ] && break; sleep 0.1; done
	sed -n 's/^size //p' "client.$2"
}

note "no client: grow, then back to the original"
nbd_ctl vol "reopen $PWD/big.qcow2" >/dev/null
assert_eq "grown" $((32 << 20)) "$(size_of)"
nbd_ctl vol "reopen $PWD/a.qcow2" >/dev/null || die "reopen back onto the original refused"
assert_eq "back" $((16 << 20)) "$(size_of)"

note "a client told 16M: grow and back are fine"
assert_eq "client 1" $((16 << 20)) "$(client_at 60 1)"
nbd_ctl vol "reopen $PWD/big.qcow2" >/dev/null
nbd_ctl vol "reopen $PWD/a.qcow2" >/dev/null || die "reopen back with a 16M client refused"

note "a client told 32M: shrinking under it is refused"
nbd_ctl vol "reopen $PWD/big.qcow2" >/dev/null
assert_eq "client 2" $((32 << 20)) "$(client_at 60 2)"
not nbd_ctl vol "reopen $PWD/a.qcow2" >/dev/null
nbd_ctl vol status | grep -q "state=running.*image=$PWD/big.qcow2" || die "status after the refusal"
qemu-img create -q -f qcow2 small.qcow2 8M
not nbd_ctl vol "reopen $PWD/small.qcow2" >/dev/null
echo ok
