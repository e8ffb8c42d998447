#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Header extension areas, odd and hostile.  The opener and the checker walk
# them the same way: the checker opens exactly what qemu-img check opens
# (qemu is the oracle), the opener adds the engine's stricter rules, and a
# cluster full of extensions costs neither of them more than a moment.
source "$LQ_TOP/tests/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img not installed"

ext_area() { python3 "$LQ_TESTS/lq_qcow2.py" ext-area "$@"; }

# mkcase IMG CASE [CLUSTER]: a fresh image with data, its extension area as CASE.
mkcase() {
	rm -f "$1"
	lq img create --cluster-size "${3:-64k}" "$1" 4M
	printf 'data' | lq img write "$1" 70000
	ext_area "$1" "$2"
}

# same_open IMG: lvqcow img check fails to open IMG (exit 1) exactly when
# qemu-img check does; prints that exit status class (1 or 0).
same_open() {
	local q l
	q=$(rc_of qemu-img check "$1")
	l=$(rc_of lq img check "$1")
	[ "$q" = 1 ] || q=0
	[ "$l" = 1 ] || l=0
	assert_eq "checker opens $1 as qemu does" "$q" "$l"
	echo "$l"
}

lq img create --cluster-size 64k base.qcow2 4M

note "refused by qemu, the checker and the engine alike"
for c in end-len truncated; do
	mkcase "$c.qcow2" "$c"
	assert_eq "$c: check cannot open" 1 "$(same_open "$c.qcow2")"
	not lq img info "$c.qcow2" 2>"$c.err"
	grep -q "header extension" "$c.err" || die "$c: unclear error: $(cat "$c.err")"
done

note "no end marker before the backing name: opened by all three"
mkcase noend.qcow2 no-end-backing
assert_eq "no end marker, backing name: check opens" 0 "$(same_open noend.qcow2)"
assert_eq "backing format kept" '"qcow2"' "$(lq img info --json noend.qcow2 | jq '.["backing-filename-format"]')"
assert_eq "data read through the engine" data "$(lq img read noend.qcow2 70000 4)"
lq img set-hidden noend.qcow2 1            # the rewrite adds the end marker
qemu-img check -q noend.qcow2
assert_eq "rewritten image keeps its backing name" base.qcow2 \
	"$(qemu-img info --output=json noend.qcow2 | jq -r '.["backing-filename"]')"

note "checked as qemu checks them, refused by the engine"
for c in fill dup-feature-table; do
	mkcase "$c.qcow2" "$c"
	assert_eq "$c: check opens" 0 "$(same_open "$c.qcow2")"
	not lq img info "$c.qcow2" 2>"$c.err"
	grep -q "header extension" "$c.err" || die "$c: unclear error: $(cat "$c.err")"
done

note "a 2 MiB cluster full of different extensions opens at once"
mkcase many.qcow2 many 2M
assert_eq "many: check opens" 0 "$(same_open many.qcow2)"
start=$(date +%s%N)
assert_eq "many: data" data "$(timeout 20 "$LQ_BIN" img read many.qcow2 70000 4)"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "open and read with 262130 extensions: ${ms} ms"
[ "$ms" -lt 8000 ] || die "opening took ${ms} ms"
