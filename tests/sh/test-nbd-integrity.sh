#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Data integrity across a crash: write LQ_INTEGRITY_MIB (default 256) MiB
# of deterministic pseudo-random data at scattered offsets through NBD,
# FLUSH, keep unflushed writes streaming into other places, SIGKILL the
# server, restart it on the same image and verify every flushed byte.
# Run alone:  ./tests/run.sh build integrity   (LQ_INTEGRITY_MIB=1024 for more)
. "$LQ_TOP/tests/lib.sh"
mib=${LQ_INTEGRITY_MIB:-256}
seed=${LQ_INTEGRITY_SEED:-20251125}
w() { nbd_raw "$LQ_TESTS/nbd_integrity.py" "$@"; }

qemu-img create -q -f qcow2 img.qcow2 4G
nbd_start vol img.qcow2

note "write $mib MiB at scattered offsets, then FLUSH"
w write "$PWD/vol.sock" vol $seed $mib

note "unflushed writes in flight, then SIGKILL"
w churn "$PWD/vol.sock" vol $seed $mib churn.ready &
churn=$!
at_exit kill_quiet $churn
for ((i = 0; i < 600; i++)); do [ -e churn.ready ] && break; sleep 0.1; done
[ -e churn.ready ] || die "the unflushed writer did not start"
nbd_kill vol KILL
wait $churn || true

note "restart on the same image and verify every flushed byte"
nbd_start vol img.qcow2
w verify "$PWD/vol.sock" vol $seed $mib

note "the same, 64 reads in flight, replies left to pile up behind the sender"
w verify-piped "$PWD/vol.sock" vol $seed $mib
nbd_stop vol

note "the image is consistent (leaked clusters from the killed writes are allowed)"
rc=0
qemu-img check img.qcow2 >check.log 2>&1 || rc=$?
cat check.log | tail -3
[ $rc = 0 ] || [ $rc = 3 ] || die "qemu-img check: exit $rc"
