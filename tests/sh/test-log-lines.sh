#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Log lines: one event is one line.  An SR path holding a newline, a
# carriage return and an escape sequence reaches the logs escaped, so
# every line on stderr starts with the logger's own prefix.
source "$LQ_TOP/tests/lib.sh"

dir=$(printf '%s/sr\nlvqcow[1]: error: forged\r\033[2J' "$PWD")
mkdir "$dir"
json_path=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$dir")

# every_line_ours FILE: each line is "<prog>[<pid>]: <level>: ...".
every_line_ours() {
	local bad
	bad=$(grep -Evn '^[^[]+\[[0-9]+\]: (error|warning|info|debug|trace): ' "$1" || true)
	[ -z "$bad" ] || die "$1: lines not written by the logger: $bad"
}

note "debug lines of a successful SR.create"
LVQCOW_DEBUG=1 call "$LQ_FILEQCOW" SR.create \
	"{\"dbg\":\"t\",\"uuid\":\"00000000-0000-4000-8000-000000000002\",\"configuration\":{\"path\":$json_path},\"name\":\"n\",\"description\":\"d\"}" \
	>out.json 2>create.log || die "SR.create failed: $(cat out.json create.log)"
every_line_ours create.log

note "the error line of a failed call"
rc=0
LVQCOW_DEBUG=1 call "$LQ_FILEQCOW" SR.stat "{\"dbg\":\"t\",\"sr\":$json_path}" >out.json 2>stat.log || rc=$?
assert_eq "SR.stat of an SR not attached" 1 "$rc"
every_line_ours stat.log
grep -qF 'sr\nlvqcow[1]: error: forged\r\x1b[2J' stat.log || die "no escaped path in: $(cat stat.log)"
assert_eq "error lines" 1 "$(grep -Ec '^[^[]+\[[0-9]+\]: error: ' stat.log)"
