#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lvqcow img coalesce on random chains of 2 and 3 images (data, zeros,
# compressed clusters, discards; cluster sizes, compat levels and sizes
# that differ; see lq_coalesce_chain.py): in each direction the result
# reads exactly like the original chain top (qemu-img compare against a
# raw copy taken before), qemu-img check finds it clean, down leaves the
# child on the parent's backing file (or none), and auto reports the byte
# counts qemu-img's own maps give and runs the smaller.  In a 3-chain the
# middle image is coalesced with the base too, and the top must still
# read the same.  Deterministic per seed; LQ_SEEDS overrides the list.
. "$LQ_TOP/tests/lib.sh"

chain() { python3 "$LQ_TESTS/lq_coalesce_chain.py" "$@"; }

# fresh DIR: a copy of the pristine chain in DIR
fresh() { rm -rf "$1"; mkdir "$1"; cp orig/*.qcow2 "$1/"; }

backing_of() { qemu-img info --output=json "$1" | jq -r '.["backing-filename"] // ""'; }

# result_ok TAG IMG WANT_RAW: IMG (on its chain) reads as WANT_RAW, is clean
result_ok() {
	qemu-img compare -q -f qcow2 -F raw "$2" "$3" || die "$1: $2 does not read as before"
	qemu-img check -q "$2" || die "$1: qemu-img check $2 failed"
}

# one DIR CHILD PARENT GRANDPARENT WANT [TOP TOP_WANT]: coalesce CHILD in
# direction DIR on a fresh copy and check the result (and the top).
one() {
	local dir=$1 child=$2 parent=$3 gp=$4 want=$5 top=${6:-} topwant=${7:-} w=w-$1 out res
	fresh "$w"
	out=$(cd "$w" && lq img coalesce --direction "$dir" "$child") ||
		die "$dir $child: coalesce failed"
	if [ "$dir" = auto ]; then
		local counts up down picked
		counts=$(chain count "orig/$child" "orig/$parent")
		read -r up down <<< "$counts"
		picked=$(echo "$out" | sed -n 's/^direction: \([a-z]*\) (up copies \([0-9]*\) bytes, down \([0-9]*\))$/\1 \2 \3/p')
		[ -n "$picked" ] || die "auto: no choice printed: $out"
		set -- $picked
		[ "$2 $3" = "$up $down" ] || die "auto: counted up $2 down $3, qemu-img maps say $up $down"
		dir=$( [ "$down" -le "$up" ] && echo down || echo up )
		[ "$1" = "$dir" ] || die "auto picked $1 with up $up, down $down"
	fi
	if [ "$dir" = up ]; then
		res=$parent
		cmp -s "$w/$child" "orig/$child" || die "up: the child changed"
	else
		res=$child
		assert_eq "$w: backing of $child" "$gp" "$(backing_of "$w/$child")"
		cmp -s "$w/$parent" "orig/$parent" || die "down: the parent changed"
	fi
	result_ok "$dir $child" "$w/$res" "$want"
	[ -z "$top" ] || result_ok "$dir $child: top" "$w/$top" "$topwant"
}

for seed in ${LQ_SEEDS:-1 2 3}; do
	for depth in 2 3; do
		note "seed $seed, chain of $depth"
		rm -rf orig && mkdir orig
		(cd orig && chain make "$seed" "$depth") || die "seed $seed: cannot build the chain"
		top=i$((depth - 1)).qcow2 mid=i$((depth - 2)).qcow2
		gp=$( [ "$depth" = 3 ] && echo i0.qcow2 || true)
		raw_of "orig/$top" top.raw
		raw_of "orig/$mid" mid.raw
		for dir in up down auto; do
			one "$dir" "$top" "$mid" "$gp" top.raw
			[ "$depth" = 3 ] && one "$dir" i1.qcow2 i0.qcow2 "" mid.raw "$top" top.raw
		done
	done
done

# Growing the parent must not uncover the grandparent's data past the
# parent's old end, where the child read zeros.
note "a child larger than a parent that has a backing file: up (and commit) keep the zeros, down is refused, auto goes up"
qemu-img create -q -f qcow2 g.qcow2 4M
qemu-img create -q -f qcow2 -b g.qcow2 -F qcow2 p.qcow2 2M
qemu-img create -q -f qcow2 -b p.qcow2 -F qcow2 c.qcow2 4M
qemu-io -f qcow2 -c 'write -P 3 0 4M' g.qcow2 >/dev/null
qemu-io -f qcow2 -c 'write -P 4 0 1M' p.qcow2 >/dev/null
raw_of c.qcow2 c.raw
cp p.qcow2 p0.qcow2
lq img commit c.qcow2 >/dev/null
result_ok "commit, larger child" p.qcow2 c.raw
cp p0.qcow2 p.qcow2
not lq img coalesce --direction down c.qcow2
qemu-img compare -q -f qcow2 -F raw c.qcow2 c.raw || die "a refused down changed the view"
lq img coalesce c.qcow2 | grep -q '^direction: up' || die "auto did not go up"
result_ok "larger child" p.qcow2 c.raw

note "bad arguments"
qemu-img create -q -f qcow2 alone.qcow2 1M
not lq img coalesce alone.qcow2
assert_eq "bad direction" 2 "$(rc_of lq img coalesce --direction sideways c.qcow2)"
assert_eq "no image" 2 "$(rc_of lq img coalesce)"
not lq img coalesce missing.qcow2
