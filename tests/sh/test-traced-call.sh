#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Calls under a tracing wrapper: xapi-storage-script with tracing on runs
# "python3 -m observer SCRIPT --json", which loads SCRIPT with
# runpy.run_path (tests/tracing/observer.py stands in for it).  A call
# sequence through the wrapper gives the same results and errors as
# direct calls; and a direct call is still one exec of the ELF binary,
# with no Python process.
source "$LQ_TOP/tests/lib.sh"

# traced DIR NAME JSON: the call through the wrapper, as the daemon runs it.
traced() {
	local dir=$1 name=$2 json=$3
	printf '%s\n' "$json" |
		env TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 \
			OBSERVER_CONFIG_DIR="$PWD/observer.d" PYTHONPATH="$dir:$LQ_TOP/tests/tracing" \
			python3 -m observer "$dir/$name" --json
}
# same DIR NAME JSON: traced and direct give the same stdout and status.
same() {
	local rc1=0 rc2=0 out1 out2
	out1=$(traced "$@" 2>traced.err) || rc1=$?
	out2=$(call "$@" 2>direct.err) || rc2=$?
	assert_eq "$2: status through the wrapper" "$rc2" "$rc1"
	[ "$rc1" -lt 2 ] || die "$2 under the wrapper: status $rc1: $(cat traced.err)"
	assert_eq "$2: stdout through the wrapper" "$out2" "$out1"
	printf '%s\n' "$out1"
}
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

mkdir sr observer.d
note "a call sequence through the wrapper"
cfg=$(traced "$LQ_FILEQCOW" SR.create \
	"{\"dbg\":\"t\",\"uuid\":\"00000000-0000-4000-8000-0000000000aa\",\"configuration\":{\"path\":\"$PWD/sr\"},\"name\":\"n\",\"description\":\"d\"}") ||
	die "SR.create under the wrapper failed: $cfg"
sr=$(traced "$LQ_FILEQCOW" SR.attach "{\"dbg\":\"t\",\"configuration\":$cfg}" | python3 -c 'import json, sys; print(json.load(sys.stdin))')
assert_eq "SR.attach" "$PWD/sr" "$sr"
vol=$(traced "$LQ_FILEQCOW" Volume.create \
	"{\"dbg\":\"t\",\"sr\":\"$sr\",\"name\":\"v\",\"description\":\"\",\"size\":1048576,\"sharable\":false}")
key=$(field key <<<"$vol")
stat=$(same "$LQ_FILEQCOW" Volume.stat "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$key\"}")
assert_eq "Volume.stat size" 1048576 "$(field virtual_size <<<"$stat")"
same "$LQ_FILEQCOW" SR.ls "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
same "$LQ_FILEQCOW" Plugin.Query '{"dbg":"t"}' >/dev/null
same "$LQ_DATAPATH" Plugin.query '{"dbg":"t"}' >/dev/null

note "an error through the wrapper: status 1 and the error JSON"
err=$(same "$LQ_FILEQCOW" Volume.stat "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"nosuch\"}")
grep -q '"Volume_does_not_exist"' <<<"$err" || die "no Volume_does_not_exist in: $err"
err=$(same "$LQ_FILEQCOW" SR.stat 'not json')
grep -q '"UnmarshalException"' <<<"$err" || die "no UnmarshalException in: $err"
assert_eq "Volume.destroy under the wrapper" null \
	"$(traced "$LQ_FILEQCOW" Volume.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$key\"}")"
assert_eq "SR.ls after it" "[]" "$(traced "$LQ_FILEQCOW" SR.ls "{\"dbg\":\"t\",\"sr\":\"$sr\"}")"
assert_eq "SR.detach under the wrapper" null "$(traced "$LQ_FILEQCOW" SR.detach "{\"dbg\":\"t\",\"sr\":\"$sr\"}")"

note "every installed call is a link to the ELF binary"
n=0
while read -r path; do
	head -c 4 "$LQ_XSS_ROOT/$path" | cmp -s - <(printf '\177ELF') ||
		die "$path does not lead to an ELF binary"
	n=$((n + 1))
done < <(lq list-calls)
[ "$n" -gt 20 ] || die "only $n installed calls"

note "a direct call is one exec, of the binary, and no Python"
command -v strace >/dev/null || skip "strace not installed"
printf '{"dbg":"t"}\n' | ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=execve -o exec.log "$LQ_FILEQCOW/Plugin.query" --json >/dev/null ||
	skip "strace cannot trace here"
assert_eq "execs of a direct call" 1 "$(grep -c 'execve(' exec.log)"
grep -qF "execve(\"$LQ_FILEQCOW/Plugin.query\"" exec.log || die "unexpected exec: $(cat exec.log)"
! grep -q python exec.log || die "python ran: $(cat exec.log)"
