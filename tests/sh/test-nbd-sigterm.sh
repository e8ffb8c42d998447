#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A FIFO where the image should be never blocks the server in open (a FIFO
# opened read-only would wait for a writer for ever): it fails at once
# with a clear error.  A server that is running ends on SIGTERM.
. "$LQ_TOP/tests/lib.sh"
mkfifo stuck.qcow2
rc=0
timeout 10 "$LQ_BIN" serve --foreground --readonly --socket "$PWD/s.sock" --export s \
	stuck.qcow2 2>serve.err || rc=$?
[ $rc -ne 124 ] || die "the server blocked opening a FIFO"
[ $rc -ne 0 ] || die "the server served a FIFO"
grep -q "not a regular file or block device" serve.err || die "unclear error: $(cat serve.err)"

qemu-img create -q -f qcow2 ok.qcow2 1M
"$LQ_BIN" serve --foreground --readonly --socket "$PWD/t.sock" --export t ok.qcow2 2>serve2.err &
pid=$!
at_exit kill_quiet -KILL $pid
for ((i = 0; i < 100; i++)); do [ -S t.sock ] && break; sleep 0.1; done
[ -S t.sock ] || die "the server did not start: $(cat serve2.err)"
kill -TERM $pid
for ((i = 0; i < 50; i++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
! kill -0 $pid 2>/dev/null || die "SIGTERM ignored"
echo ok
