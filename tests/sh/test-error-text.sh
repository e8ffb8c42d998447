#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Error text: a failed call logs its error once (by the entry point, not
# again where it was found), system errors read as "<what>: <strerror>"
# (the %m convention), and the library sources do not format errno any
# other way.
source "$LQ_TOP/tests/lib.sh"

sr=$(realpath sr)
new_sr sr >/dev/null

note "a corrupt metadata area: one error line for one failed call"
cp sr/lvqcow-sr.meta good.meta
# both superblock copies (blocks 0 and 1)
printf 'not an area\n' | dd of=sr/lvqcow-sr.meta conv=notrunc status=none
printf 'not an area\n' | dd of=sr/lvqcow-sr.meta bs=4096 seek=1 conv=notrunc status=none
rc=0
call "$LQ_FILEQCOW" SR.stat "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >out.json 2>err.log || rc=$?
assert_eq "SR.stat status" 1 "$rc"
assert_eq "error code" '["Metadata_corrupt"]' "$(json_get "$(cat out.json)" 'j["params"][:1]')"
assert_eq "error lines logged" 1 "$(grep -c ': error: ' err.log)"
cp good.meta sr/lvqcow-sr.meta

note "a system error reads as what failed and strerror, once"
rc=0
call "$LQ_FILEQCOW" SR.create '{"dbg":"t","uuid":"00000000-0000-4000-8000-000000000001","configuration":{"path":"/nonexistent-lq"},"name":"n","description":"d"}' \
	>out.json 2>err.log || rc=$?
assert_eq "SR.create status" 1 "$rc"
assert_eq "message" "path '/nonexistent-lq': No such file or directory" \
	"$(json_get "$(cat out.json)" 'j["params"][1]')"
assert_eq "error lines logged" 1 "$(grep -c ': error: ' err.log)"

note "no strerror() in the sources converted to the %m convention"
# src/qcow2 and src/nbd are converted separately.
hits=$(cd "$LQ_TOP" && grep -rn 'strerror *(' src cli plugin volume datapath \
	--include='*.c' --include='*.h' | grep -v '^src/qcow2/\|^src/nbd/' || true)
[ -z "$hits" ] || die "strerror() outside the convention: $hits"
