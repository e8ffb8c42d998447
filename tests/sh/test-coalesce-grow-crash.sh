#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A coalesce up into a parent smaller than its child (the volume was
# resized) grows the parent; the grandparent, longer than the parent,
# must never show through the grown range.  `lvqcow img coalesce --direction
# up` is killed at every fault point it reaches in turn (and by name
# between the zero entries and the new size), then run again: the parent
# on its base must read exactly what the child read before (qemu-img
# compare against qemu's own raw view of the child), the grown range
# must read zeros through the chain (qemu-io), and qemu-img check must
# find no corruption.  Both compat levels: v3 gets zero flags, v2
# (which has none) written zeros.
. "$LQ_TOP/tests/lib.sh"

MIB=$((1024 * 1024))
PSIZE=$((2 * MIB + 32768))  # the parent ends inside one of its clusters

# make COMPAT: base (8M of 0xb0) <- parent (2M+32K, 64K of 0xa0) <- child
# (8M, data at 1M and 5M) in orig/, and want.raw: the child as qemu reads it.
make() {
	rm -rf orig && mkdir orig
	(
		cd orig || exit 1
		qemu-img create -q -f qcow2 -o compat="$1" base.qcow2 8M
		qemu-io -f qcow2 -c "write -P 0xb0 0 8M" base.qcow2 >/dev/null
		qemu-img create -q -f qcow2 -o compat="$1" -b base.qcow2 -F qcow2 parent.qcow2 "$PSIZE"
		qemu-io -f qcow2 -c "write -P 0xa0 0 64k" parent.qcow2 >/dev/null
		qemu-img create -q -f qcow2 -o compat="$1" -b parent.qcow2 -F qcow2 child.qcow2 8M
		qemu-io -f qcow2 -c "write -P 0xc1 1M 64k" -c "write -P 0xc5 5M 64k" child.qcow2 >/dev/null
	) || die "cannot build the chain"
	raw_of orig/child.qcow2 want.raw
}

fresh() { rm -rf w; cp -r orig w; }

coalesce() { (cd w && "$LQ_BIN" img coalesce -q --direction up child.qcow2); }

# zeros_past_old_end TAG: through parent on base, the grown range reads
# zeros except the child's cluster at 5M.
zeros_past_old_end() {
	local out
	out=$(qemu-io -r -f qcow2 -c "read -P 0 $PSIZE $((5 * MIB - PSIZE))" \
		-c "read -P 0 $((5 * MIB + 65536)) $((3 * MIB - 65536))" w/parent.qcow2 2>&1)
	! grep -q "Pattern verification failed" <<< "$out" || die "$1: the base shows past the parent's old end"
	grep -q "^read" <<< "$out" || die "$1: qemu-io read failed: $out"
}

# recovered TAG: the finished result is right.
recovered() {
	qemu-img compare -q -f qcow2 -F raw w/parent.qcow2 want.raw ||
		die "$1: the parent does not read as the child did"
	zeros_past_old_end "$1"
	local rc=0
	qemu-img check -q w/parent.qcow2 || rc=$?
	[ $rc = 0 ] || [ $rc = 3 ] || die "$1: qemu-img check found corruption ($rc)"
}

for compat in 1.1 0.10; do
	note "compat $compat"
	make "$compat"

	# Killed by name between the zero entries and the size: the header
	# still has the old size, the chain still reads as before.
	fresh
	rc=0
	(cd w && LVQCOW_FAULT=qcow2.resize.zeroed "$LQ_BIN" img coalesce -q --direction up child.qcow2) \
		2>/dev/null || rc=$?
	assert_eq "killed at qcow2.resize.zeroed" 137 "$rc"
	assert_eq "parent size after the kill" "$PSIZE" "$(vsize_of w/parent.qcow2)"
	qemu-img compare -q -f qcow2 -F raw w/child.qcow2 want.raw || die "the child's view changed"
	qemu-img check -q w/parent.qcow2 || die "qemu-img check after the kill failed"
	coalesce || die "rerun failed"
	recovered "named kill"

	# Killed at every point in turn.
	fresh
	n=$(cd w && LVQCOW_FAULT_TRACE=1 "$LQ_BIN" img coalesce -q --direction up child.qcow2 2>&1 |
		grep -c "fault point ") || true
	[ "$n" -ge 3 ] || die "only $n fault points traced"
	recovered "traced run"
	for i in $(seq 1 "$n"); do
		fresh
		rc=0
		(cd w && LVQCOW_FAULT_AT=$i "$LQ_BIN" img coalesce -q --direction up child.qcow2) \
			2>/dev/null || rc=$?
		assert_eq "killed at point $i" 137 "$rc"
		coalesce || die "rerun after point $i failed"
		recovered "point $i"
	done
	echo "compat $compat: $n fault points exercised"
done
echo OK
