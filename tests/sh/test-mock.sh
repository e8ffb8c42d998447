#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The xapi-storage-script mock itself: fake plugins that misbehave must be
# caught the way the real daemon catches them (SCRIPT_FAILED for bad JSON,
# a bad error object or a signal; SCRIPT_MISSING / SCRIPT_NOT_EXECUTABLE;
# case-insensitive lookup), and results that break the IDL are refused.
source "$LQ_TOP/tests/lib.sh"

d=$PWD/fake
mkdir -p "$d"
script() { printf '#!/bin/sh\ncat >/dev/null\n%s\n' "$2" > "$d/$1"; chmod +x "$d/$1"; }
script SR.stat 'echo "not json"'
script SR.ls 'echo "{\"code\":\"X\"}"; exit 1'
script SR.attach 'kill -9 $$'
script SR.detach 'echo "{\"code\":\"SR_BACKEND_FAILURE\",\"params\":[\"Boom\",\"detail\"],\"backtrace\":{\"error\":\"e\",\"files\":[],\"lines\":[]}}"; exit 1'
script Volume.stat 'echo "{\"key\":\"k\",\"name\":\"n\",\"description\":\"d\",\"read_write\":1,\"sharable\":false,\"virtual_size\":0,\"physical_utilisation\":0,\"uri\":[],\"keys\":{}}"'
script Volume.create 'echo "{\"key\":\"k\",\"name\":\"n\",\"description\":\"d\",\"read_write\":true,\"sharable\":false,\"virtual_size\":0,\"physical_utilisation\":0,\"uri\":[],\"keys\":{},\"tags\":[]}"'
script SR.probe 'echo "[{\"configuration\":{\"sr_uuid\":\"u\"},\"complete\":false,\"extra_info\":{}}]"'
script sr.SET_NAME 'echo null'
printf 'echo null\n' > "$d/SR.set_description"

rc() { local r=0; xss call "$d" "$@" >out.json 2>err.txt || r=$?; echo $r; }
assert_eq "bad json" 2 "$(rc SR.stat '{}')"
grep -q '"SCRIPT_FAILED".*"bad json on stdout"' out.json || die "bad json: $(cat out.json)"
assert_eq "bad error object" 2 "$(rc SR.ls '{}')"
grep -q 'non-zero exit and bad json on stdout' out.json || die "bad error: $(cat out.json)"
assert_eq "signal" 2 "$(rc SR.attach '{}')"
grep -q '"signalled", "9"' out.json || die "signal: $(cat out.json)"
assert_eq "plugin error" 1 "$(rc SR.detach '{}')"
grep -q '"Boom", "detail"' out.json || die "error: $(cat out.json)"
assert_eq "bool typed as int" 3 "$(rc Volume.stat '{}')"
assert_eq "unknown field" 3 "$(rc Volume.create '{}')"
grep -q "unknown field 'tags'" err.txt || die "unknown field: $(cat err.txt)"
assert_eq "probe rules" 3 "$(rc SR.probe '{}')"
assert_eq "case-insensitive lookup" 0 "$(rc SR.set_name '{}')"
assert_eq "missing" 2 "$(rc SR.destroy '{}')"
grep -q SCRIPT_MISSING out.json || die "missing: $(cat out.json)"
assert_eq "not executable" 2 "$(rc SR.set_description '{}')"
grep -q SCRIPT_NOT_EXECUTABLE out.json || die "not executable: $(cat out.json)"
echo OK
