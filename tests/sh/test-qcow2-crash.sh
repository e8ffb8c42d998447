#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash safety of the engine's metadata writes.  A write workload that
# grows the refcount table, a resize that moves the L1 table and a write
# that first rebuilds the refcounts of a dirty image are each killed
# (SIGKILL, LVQCOW_FAULT_AT) at a sample of the fault points they reach:
# the first point of every name plus points spread over the whole run.
# After each kill the image must have at worst leaks (qemu-img check 0 or
# 3), be clean after `lvqcow img check --repair leaks`, and every cluster
# of the guest must read either its old or its new content.  (Commit is
# covered the same way by test-qcow2-commit.sh.)
. "$LQ_TOP/tests/lib.sh"

SAMPLES=${SAMPLES:-8}     # spread points per workload, besides one per name

# points_of TRACE_FILE: the point numbers to kill at, one a line (the
# first point of every name, SAMPLES spread over the run); names to stderr.
points_of() { python3 "$LQ_TESTS/lq_qcow2.py" fault-points "$1" "$SAMPLES"; }

# old_or_new GOT OLD NEW UNIT: every UNIT-byte region of GOT equals the
# same region of OLD or of NEW (GOT may be longer: resize).
old_or_new() {
	python3 "$LQ_TESTS/lq_qcow2.py" old-or-new "$@" || die "guest content is neither old nor new"
}

# crash_runs NAME BASE OLD NEW CMD...: for each sampled point N, copy BASE
# to k.qcow2, run CMD (which names k.qcow2) killed at N, then verify.
crash_runs() {
	local name=$1 base=$2 old=$3 new=$4 n rc leaked=0 runs=0
	shift 4
	cp "$base" k.qcow2
	LVQCOW_FAULT_TRACE=1 "$@" 2>trace >/dev/null || die "$name: traced run failed"
	raw_of k.qcow2 "$new"
	qcheck k.qcow2
	for n in $(points_of trace 2>names); do
		cp "$base" k.qcow2
		rc=0
		LVQCOW_FAULT_AT=$n "$@" >/dev/null 2>&1 || rc=$?
		assert_eq "$name killed at point $n" 137 "$rc"
		rc=$(rc_of qemu-img check k.qcow2)
		[ "$rc" = 0 ] || [ "$rc" = 3 ] || die "$name, kill at $n: qemu-img check $rc"
		[ "$rc" = 3 ] && leaked=$((leaked + 1))
		lq img check --repair leaks k.qcow2 >/dev/null 2>&1 || die "$name, kill at $n: repair"
		qcheck k.qcow2
		raw_of k.qcow2 got.raw
		old_or_new got.raw "$old" "$new" 512
		runs=$((runs + 1))
	done
	note "$name: $(grep -c '^fault point' trace) points ($(cat names)); $runs kills, $leaked left leaks (repaired)"
}

note "write workload: 6 MiB into 512-byte clusters (L2, refcount blocks, table growth)"
qemu-img create -q -f qcow2 -o cluster_size=512 w.qcow2 16M
qemu-io -f qcow2 -c 'write -P 1 0 4M' -c 'write -P 2 12M 1M' w.qcow2 >/dev/null
raw_of w.qcow2 w-old.raw
head -c 6M /dev/urandom > payload
crash_runs write w.qcow2 w-old.raw w-new.raw sh -c "\"$LQ_BIN\" img write k.qcow2 3M < payload"
[ "$(be_field w.qcow2 48 8)" != "$(be_field k.qcow2 48 8)" ] || die "the refcount table did not move"

note "resize: 1 MiB to 64 MiB (the L1 table moves)"
qemu-img create -q -f qcow2 -o cluster_size=512 r.qcow2 1M
qemu-io -f qcow2 -c 'write -P 3 0 1M' r.qcow2 >/dev/null
raw_of r.qcow2 r-old.raw
crash_runs resize r.qcow2 r-old.raw r-new.raw "$LQ_BIN" img resize k.qcow2 64M

note "refcount rebuild of a dirty image, then a write"
qemu-img create -q -f qcow2 -o cluster_size=4096,lazy_refcounts=on d.qcow2 8M
qemu-io -f qcow2 -c 'write -P 4 0 2M' d.qcow2 >/dev/null
poke_be d.qcow2 72 8 1          # incompatible feature bit 0: dirty
raw_of d.qcow2 d-old.raw
head -c 1M /dev/urandom > payload
crash_runs rebuild d.qcow2 d-old.raw d-new.raw sh -c "\"$LQ_BIN\" img write k.qcow2 1536K < payload"
grep -q 'qcow2.rebuild.switch' trace || die "the dirty image was not rebuilt"
