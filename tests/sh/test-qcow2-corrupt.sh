#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A corpus of corrupted images, generated deterministically here: bits
# flipped in every header field, in L1 and L2 entries, in the refcount
# table and in refcount blocks (at offsets computed from the image), plus
# random flips inside the metadata with a fixed seed.  For each one,
# lvqcow img check must give qemu-img check's exit code, and info, map,
# read and a repair attempt must never crash.  Known, deliberate
# divergences (docs/qcow2-ops.md) are accepted only where they apply.
# By default every other case runs (about 100, to keep the test short);
# LQ_CORRUPT_FULL=1 runs all of them.
. "$LQ_TOP/tests/lib.sh"

# cases IMAGE SEED COUNT HEADER: write one corrupted copy of IMAGE per
# case into cases/ and print "file offset bit" lines (the header fields are
# flipped only when HEADER is 1).
cases() { python3 "$LQ_TESTS/lq_qcow2.py" corrupt-cases "$@"; }

# one_case BASE IMAGE OFFSET BIT: compare the checkers on one corrupted copy.
one_case() {
	local base=$1 img=$2 off=$3 bit=$4 ours theirs
	theirs=0
	qemu-img check $img >/dev/null 2>qemu.err || theirs=$?
	ours=$(rc_of lq img check $img)
	[ "$ours" -lt 128 ] || die "check crashed on $base +$off bit $bit"
	if [ "$ours" != "$theirs" ]; then
		if [ "$theirs" = 1 ] && [ "$ours" = 2 ] && grep -q "Cannot allocate memory" qemu.err; then
			diverged=$((diverged + 1))     # qemu ran out of memory on a far offset
		else
			echo "MISMATCH $base +$off bit $bit: qemu-img check $theirs, lvqcow $ours" \
				"($(head -c 200 qemu.err | tr '\n' ' '))" | tee -a mismatches
		fi
	fi
	for cmd in "info --json $img" "map --json $img" "read $img 0 1M"; do
		rc=$(rc_of lq img $cmd)
		[ "$rc" -lt 128 ] || die "lvqcow img $cmd crashed (signal $((rc - 128))) on $base +$off bit $bit"
	done
	rc=$(rc_of lq img check --repair all $img)
	[ "$rc" -lt 128 ] || die "repair crashed on $base +$off bit $bit"
	if [ "$rc" = 0 ]; then
		rc=$(rc_of qemu-img check $img)
		[ "$rc" = 0 ] || die "$base +$off bit $bit: repaired, but qemu-img check says $rc"
	fi
	total=$((total + 1))
}

total=0 diverged=0
note "base images"
qemu-img create -q -f qcow2 -o cluster_size=4096 v3.qcow2 64M
qemu-io -f qcow2 -c 'write -P 1 0 200k' -c 'write -P 2 1M 64k' -c 'write -z 2M 8k' \
	-c 'write -P 3 40M 12k' -c 'write -P 4 63M 4k' v3.qcow2 >/dev/null
qemu-img convert -c -O qcow2 -o cluster_size=4096 v3.qcow2 v3c.qcow2
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=65536 v2.qcow2 16M
qemu-io -f qcow2 -c 'write -P 5 0 192k' -c 'write -P 6 8M 64k' v2.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=4096,refcount_bits=8 rb8.qcow2 8M
qemu-io -f qcow2 -c 'write -P 7 0 64k' rb8.qcow2 >/dev/null
for base in v3.qcow2 v3c.qcow2 v2.qcow2 rb8.qcow2; do
	qcheck $base
	n=0 header=1
	[ $base = v3.qcow2 ] || [ $base = v2.qcow2 ] || header=0
	i=0
	while read -r img off bit; do
		# every other case by default; LQ_CORRUPT_FULL=1 runs them all
		if [ -n "${LQ_CORRUPT_FULL:-}" ] || [ $((i % 2)) = 0 ]; then
			one_case $base "$img" "$off" "$bit"
			n=$((n + 1))
		fi
		rm -f "$img"
		i=$((i + 1))
	done < <(cases $base 42 8 $header)
	note "$base: $n corrupted copies agree"
done
note "$total cases, $diverged accepted divergences (qemu-img out of memory)"
[ ! -s mismatches ] || die "$(wc -l < mismatches) exit codes differ from qemu-img's"
