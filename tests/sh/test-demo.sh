#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's demo (tests/demo.sh, `make demo`): it exits 0 after a full
# lifecycle, and when a step fails it exits with that step's status and
# leaves no NBD server of its own running.
source "$LQ_TOP/tests/lib.sh"
command -v qemu-io >/dev/null && command -v qemu-img >/dev/null || skip "qemu-io/qemu-img not installed"

build=$(dirname "$LQ_DESTDIR")
demo=$LQ_TESTS/demo.sh
# The demo has its own run directory and mock state; none of ours.
unset LVQCOW_RUNDIR XSS_MOCK_STATE LQ_XSS_ROOT

note "the demo succeeds"
rc=0
"$demo" "$build" >demo.out 2>&1 || rc=$?
[ $rc = 0 ] || { tail -n 20 demo.out >&2; die "demo exited $rc"; }
grep -qx "demo complete" demo.out || die "demo did not reach its end"

note "a failing step: its status is the demo's, and the server is stopped"
mkdir fakebin
printf '#!/bin/sh\nexit 3\n' >fakebin/qemu-io
chmod +x fakebin/qemu-io
rc=0
PATH=$PWD/fakebin:$PATH "$demo" "$build" >fail.out 2>&1 || rc=$?
assert_eq "demo status after a failing qemu-io" 3 "$rc"
grep -q "vdi-activate" fail.out || die "the demo failed before starting a server"
tmp=$(sed -n 's/^lvqcow demo: plugin tree in \(.*\)\/root\/usr\/.*/\1/p' fail.out)
[ -n "$tmp" ] || die "no demo directory in the output"
[ ! -e "$tmp" ] || die "the demo left $tmp behind"
left=$(pgrep -f -- "$tmp/run" || true)
[ -z "$left" ] || die "NBD servers left running: $left"
