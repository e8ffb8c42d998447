#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh BUILD [PATTERN...]: install BUILD/lvqcow into BUILD/root the way a
# package would, then run every tests/sh/test-*.sh (or those whose name
# contains one of the PATTERNs; with LQ_RUN_EXACT=1, those named exactly)
# against the installed binaries.  Each test runs in its own
# scratch directory; a failing test prints its log.
set -u
build=$(realpath "$1")
shift
patterns=("$@")
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
root="$build/root"
rm -rf "$root"
make -s -C "$top" install BUILD="$build" DESTDIR="$root" >/dev/null || exit 1
export LQ_DESTDIR="$root"
export LQ_BIN="$root/usr/bin/lvqcow"
export LQ_XSS_ROOT="$root/usr/libexec/xapi-storage-script"
export LQ_TOP="$top"
# The calls log to the host's syslog by default; the tests keep it quiet
# (tests/sh/test-syslog.sh turns it back on with a socket of its own).
export LVQCOW_SYSLOG=${LVQCOW_SYSLOG:-0}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# selected NAME: no pattern given, or NAME matches one.
selected() {
	local p
	[ ${#patterns[@]} -gt 0 ] || return 0
	for p in "${patterns[@]}"; do
		if [ "${LQ_RUN_EXACT:-0}" = 1 ]; then
			[ "$1" = "$p" ] && return 0
		else
			[[ "$1" == *$p* ]] && return 0
		fi
	done
	return 1
}
pass=0 fail=0 skip=0 failed=""
for t in "$here"/sh/test-*.sh; do
	name=$(basename "$t" .sh)
	selected "$name" || continue
	scratch=$(mktemp -d "/tmp/lq-$name.XXXXXX")
	start=$(date +%s)
	( cd "$scratch" && LQ_SCRATCH="$scratch" bash "$t" ) >"$scratch.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc = 0 ]; then
		pass=$((pass + 1)); echo "PASS $name (${secs}s)"
		rm -rf "$scratch" "$scratch.log"
	elif [ $rc = 77 ]; then
		skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$scratch.log")"
		rm -rf "$scratch" "$scratch.log"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (rc=$rc, ${secs}s); last lines of $scratch.log:"
		tail -n 40 "$scratch.log" | sed 's/^/    /'
	fi
done
echo "shell tests: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ] || { echo "failed:$failed"; exit 1; }
