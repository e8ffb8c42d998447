#!/bin/bash
# A server stuck opening its image (a FIFO opened read-only blocks until a
# writer comes) still ends on SIGTERM.
. "$LQ_TOP/tests/lib.sh"
mkfifo stuck.qcow2
"$LQ_BIN" serve --foreground --readonly --socket "$PWD/s.sock" --export s stuck.qcow2 2>serve.err &
pid=$!
at_exit kill_quiet -KILL $pid
sleep 1
kill -0 $pid 2>/dev/null || die "the server did not block in open: $(cat serve.err)"
kill -TERM $pid
for ((i = 0; i < 50; i++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
! kill -0 $pid 2>/dev/null || die "SIGTERM ignored while opening the image"
echo ok
