#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The SR lock wait is bounded: with the lock held by another process a
# call fails after LVQCOW_LOCK_TIMEOUT_MS with an error naming the SR,
# instead of hanging (xapi-storage-script would wait forever).  Readers
# share the lock, so a held shared lock blocks changes but not reads.
source "$LQ_TOP/tests/lib.sh"

SRU=$(new_sr sr)
sr=$(realpath sr)
V=$(xe vdi-create sr-uuid="$SRU" name-label=lock-test virtual-size=1048576)
export LVQCOW_LOCK_TIMEOUT_MS=700

# hold MODE: hold the SR lock (flock -x or -s) in the background until
# the file "release" appears.
hold() {
	rm -f release held
	flock "$1" sr/lvqcow-sr.lock sh -c 'touch held; while [ ! -e release ]; do sleep 0.05; done' &
	HOLDER=$!
	at_exit kill "$HOLDER"
	while [ ! -e held ]; do sleep 0.05; done
}
release() { touch release; wait "$HOLDER"; }

# timed NAME JSON: the call must fail within 10 s (not hang); prints the error.
timed() {
	local start=$SECONDS out rc=0
	out=$(timeout 10 "$LQ_FILEQCOW/$1" --json <<<"$2") || rc=$?
	[ $rc -ne 124 ] || die "$1 hung with the SR lock held"
	[ $rc -eq 1 ] || die "$1: expected the error exit status 1, got $rc: $out"
	[ $((SECONDS - start)) -le 5 ] || die "$1 took $((SECONDS - start)) s"
	echo "$out"
}

note "exclusive lock held: reads and changes time out, naming the SR"
hold -x
out=$(timed SR.stat "{\"dbg\":\"t\",\"sr\":\"$sr\"}")
[[ "$out" == *"$sr is busy"* ]] || die "error does not name the SR: $out"
timed Volume.set_name "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$V\",\"new_name\":\"x\"}" >/dev/null
release
assert_eq "name unchanged" lock-test "$(xe vdi-param-get uuid="$V" param-name=name-label)"

note "shared lock held: reads go on, changes time out"
hold -s
call "$LQ_FILEQCOW" SR.stat "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null || die "SR.stat under a shared lock"
timed Volume.set_name "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$V\",\"new_name\":\"x\"}" >/dev/null
release

note "free again: calls work"
call "$LQ_FILEQCOW" Volume.set_name "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$V\",\"new_name\":\"y\"}" >/dev/null
assert_eq "renamed" y "$(xe vdi-param-get uuid="$V" param-name=name-label)"
