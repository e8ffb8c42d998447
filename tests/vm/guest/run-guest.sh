#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs in the guest: every /tests/test-*.sh, each in its own scratch
# directory, then one summary line the host reads.
pass=0 fail=0 failed=""
for t in /tests/test-*.sh; do
	name=$(basename "$t" .sh)
	dir=/tmp/$name
	mkdir -p "$dir"
	start=$(cut -d' ' -f1 /proc/uptime)
	if (cd "$dir" && sh -e "$t") >"$dir.log" 2>&1; then
		pass=$((pass + 1)); r=PASS
	else
		fail=$((fail + 1)); r=FAIL; failed="$failed $name"
	fi
	end=$(cut -d' ' -f1 /proc/uptime)
	echo "LQVM: $r $name ($(awk "BEGIN {print $end - $start}")s)"
	[ $r = PASS ] || sed 's/^/LQVM:     /' "$dir.log" | tail -n 40
done
echo "LQVM: guest: $pass passed, $fail failed"
[ -z "$failed" ] || echo "LQVM: failed:$failed"
