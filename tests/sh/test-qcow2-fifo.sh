#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Non-regular files: a FIFO as the image, as its backing file or given to
# the checker fails at once with a clear error instead of blocking.
source "$LQ_TOP/tests/lib.sh"

# fast CMD...: CMD fails within 10 s (a blocking open would time out).
fast_failure() {
	local rc=0
	timeout 10 "$LQ_BIN" "${@:2}" 2>err.txt || rc=$?
	[ "$rc" -ne 124 ] || die "$* blocked"
	[ "$rc" -ne 0 ] || die "$* succeeded"
	grep -q 'not a regular file' err.txt || die "$*: unclear error: $(cat err.txt)"
}

mkfifo fifo
note "a FIFO as the image"
fast_failure lq img info fifo
fast_failure lq img read fifo 0 512
fast_failure lq img write fifo 0 </dev/null
fast_failure lq img check fifo

note "a FIFO as the backing file named by the header"
lq img create --cluster-size 4k -b fifo -F raw top.qcow2 1M
fast_failure lq img read top.qcow2 0 512
lq img create --cluster-size 4k -b "$PWD/fifo" top2.qcow2 1M
fast_failure lq img read top2.qcow2 0 512

note "a directory as the image"
mkdir d
not timeout 10 "$LQ_BIN" img info d
