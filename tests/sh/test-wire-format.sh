#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The wire format through the installed calls: a string parameter that is
# not UTF-8 is refused before anything is stored (so no later result can
# be invalid JSON text), and an integer beyond int64 is refused as out of
# range instead of being read as 9223372036854775807.
source "$LQ_TOP/tests/lib.sh"

new_sr sr >/dev/null
sr=$(realpath sr)

# vcall NAME JSON: one call on the fileqcow plugin; prints stdout.
vcall() { call "$LQ_FILEQCOW" "$1" "$2" 2>/dev/null; }
# refused WHAT FIRST DETAIL NAME JSON: the call fails with params [FIRST,
# message containing DETAIL] (FIRST: the exception name under
# SR_BACKEND_FAILURE, or the fixed first param of a XenAPI code).
refused() {
	local out rc=0
	out=$(vcall "$4" "$5") || rc=$?
	assert_eq "$1: status" 1 "$rc"
	assert_eq "$1: first param" "$2" "$(json_get "$out" 'j["params"][0]')"
	[[ "$(json_get "$out" 'j["params"][1]')" == *"$3"* ]] || die "$1: no [$3] in $out"
	[[ "$out" != *9223372036854775807* ]] || die "$1: saturated value in $out"
}

create() { printf '{"dbg":"t","sr":"%s","name":"%s","description":"d","size":%s,"sharable":false}' "$sr" "$1" "$2"; }

note "sizes beyond int64"
refused "size 2^63" "VDI Invalid size" "size 9223372036854775808 is out of range" \
	Volume.create "$(create n 9223372036854775808)"
refused "size 2^64" "VDI Invalid size" "size 18446744073709551616 is out of range" \
	Volume.create "$(create n 18446744073709551616)"
refused "size -2^63-1" "VDI Invalid size" "size -9223372036854775809 is out of range" \
	Volume.create "$(create n -9223372036854775809)"
refused "size 10^30" "VDI Invalid size" "size 1000000000000000000000000000000 is out of range" \
	Volume.create "$(create n 1000000000000000000000000000000)"
out=$(vcall Volume.create "$(create n 9223372036854775807)") || true
assert_eq "2^63-1 is a size, only too big" "VDI Invalid size" "$(json_get "$out" 'j["params"][0]')"

note "strings that are not UTF-8"
refused "name" Invalid_argument "field 'name': invalid UTF-8" Volume.create "$(create $'bad\xff' 1048576)"
refused "overlong" Invalid_argument "invalid UTF-8" Volume.create "$(create $'\xc0\xaf' 1048576)"
refused "surrogate" Invalid_argument "invalid UTF-8" Volume.create "$(create $'\xed\xa0\x80' 1048576)"
refused "sr" Invalid_argument "field 'sr'" SR.stat "$(printf '{"dbg":"t","sr":"%s\xfe"}' "$sr")"
refused "device-config" Invalid_argument "field 'path'" SR.probe \
	"$(printf '{"dbg":"t","configuration":{"path":"%s\x80"}}' "$sr")"
refused "unknown field" Invalid_argument "invalid UTF-8" SR.stat \
	"$(printf '{"dbg":"t","sr":"%s","extra":"\xff"}' "$sr")"
key=$(json_get "$(vcall Volume.create "$(create good 1048576)")" 'j["key"]')
refused "set_name" Invalid_argument "new_name" Volume.set_name \
	"$(printf '{"dbg":"t","sr":"%s","key":"%s","new_name":"\xe2\x82"}' "$sr" "$key")"
refused "Volume.set value" Invalid_argument "field 'v'" Volume.set \
	"$(printf '{"dbg":"t","sr":"%s","key":"%s","k":"a","v":"\xff"}' "$sr" "$key")"

note "what is stored stays valid: SR.ls is UTF-8 JSON with one volume named good"
out=$(vcall SR.ls "{\"dbg\":\"t\",\"sr\":\"$sr\"}")
printf '%s' "$out" | iconv -f UTF-8 -t UTF-8 >/dev/null || die "SR.ls output is not UTF-8"
assert_eq "volumes" '["good"]' "$(json_get "$out" '[v["name"] for v in j]')"
