#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The log switches under ThreadSanitizer: the unit test of src/util/log.c
# (whose threads all ask for the switches at once, before anyone has read
# the environment) built with -fsanitize=thread must run without a data
# race report, as the NBD server's worker threads do.
source "$LQ_TOP/tests/lib.sh"

cc=${CC:-gcc}
echo 'int main(void) { return 0; }' >probe.c
"$cc" -fsanitize=thread probe.c -o probe 2>/dev/null || skip "no ThreadSanitizer runtime for $cc"
flags=$(pkg-config --cflags json-c 2>/dev/null || true)
"$cc" -std=gnu11 -g -O1 -fsanitize=thread -D_GNU_SOURCE -I"$LQ_TOP/include" $flags \
	"$LQ_TOP/src/util/test-log.c" "$LQ_TOP/src/util/log.c" -o test-log -lcmocka -lpthread ||
	die "building the log unit test with ThreadSanitizer failed"
rc=0
TSAN_OPTIONS=halt_on_error=1:exitcode=66 ./test-log >out.log 2>&1 || rc=$?
grep -q 'ThreadSanitizer: data race' out.log && die "data race: $(grep -A12 'data race' out.log | head -n 20)"
assert_eq "unit test status under ThreadSanitizer" 0 "$rc"
