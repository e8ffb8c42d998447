#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lvqcow img commit gives the parent exactly the content qemu-img commit
# gives it: data, compressed data, zero clusters over the parent's data
# (and over a grandparent's), a child larger than its parent, cluster
# sizes that differ, a v2 parent.  The child is left unchanged.  A commit
# killed at every fault point and then re-run ends with the same content
# and a parent that has at worst leaks, which repair removes.
. "$LQ_TOP/tests/lib.sh"

# pair NAME PARENT_OPTS CHILD_OPTS SIZE [CHILD_SIZE]: NAME-p.qcow2 <- NAME-c.qcow2
pair() {
	local n=$1
	qemu-img create -q -f qcow2 -o "$2" "$n-p.qcow2" "$4"
	qemu-io -f qcow2 -c 'write -P 1 0 3M' -c 'write -P 2 8M 1M' -c 'write -P 3 20M 64k' \
		"$n-p.qcow2" >/dev/null
	qemu-img create -q -f qcow2 -o "$3" -b "$n-p.qcow2" -F qcow2 "$n-c.qcow2" "${5:-$4}"
	qemu-io -f qcow2 -c 'write -P 7 1M 1M' -c 'write -z 8M 512k' -c 'write -P 8 12M 100k' \
		-c 'write -c -P 9 16M 64k' -c 'write -z 20M 64k' -c 'write -P 6 3M 4k' \
		"$n-c.qcow2" >/dev/null
}

# same_commit NAME: commit NAME with lvqcow and a copy with qemu-img; the
# parents must read the same, and equal the child's view before.
same_commit() {
	local n=$1
	cp "$n-p.qcow2" "q$n-p.qcow2"
	cp "$n-c.qcow2" "q$n-c.qcow2"
	qemu-img rebase -u -f qcow2 -F qcow2 -b "q$n-p.qcow2" "q$n-c.qcow2"
	raw_of "$n-c.qcow2" want.raw
	md5sum < "$n-c.qcow2" > child.md5
	lq img commit "$n-c.qcow2" >/dev/null
	qemu-img commit -q -d "q$n-c.qcow2"
	md5sum < "$n-c.qcow2" | cmp -s - child.md5 || die "$n: commit changed the child"
	raw_of "$n-p.qcow2" ours.raw
	raw_of "q$n-p.qcow2" theirs.raw
	cmp_files theirs.raw ours.raw
	cmp_files want.raw ours.raw
	qcheck "$n-p.qcow2"
}

note "data, compressed, zero over data, same cluster size"
pair a cluster_size=65536 cluster_size=65536 32M
same_commit a
note "child larger than the parent"
pair b cluster_size=65536 cluster_size=65536 24M 40M
qemu-io -f qcow2 -c 'write -P 5 30M 2M' -c 'write -z 39M 1M' b-c.qcow2 >/dev/null
same_commit b
note "different cluster sizes, both ways"
pair c cluster_size=4096 cluster_size=65536 32M
same_commit c
pair d cluster_size=65536 cluster_size=16384 32M
same_commit d
note "v2 parent: zeros must be written, there is no zero flag"
pair e compat=0.10 cluster_size=65536 32M
same_commit e

note "zero in the child hides the grandparent's data"
qemu-img create -q -f qcow2 g-gp.qcow2 32M
qemu-io -f qcow2 -c 'write -P 4 0 32M' g-gp.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b g-gp.qcow2 -F qcow2 g-p.qcow2
qemu-img create -q -f qcow2 -b g-p.qcow2 -F qcow2 g-c.qcow2
qemu-io -f qcow2 -c 'write -z 0 4M' -c 'write -P 5 10M 1M' g-c.qcow2 >/dev/null
raw_of g-c.qcow2 want.raw
lq img commit g-c.qcow2 >/dev/null
raw_of g-p.qcow2 got.raw
cmp_files want.raw got.raw
qcheck g-p.qcow2

note "refusals leave everything unchanged"
qemu-img create -q -f qcow2 lone.qcow2 1M
not lq img commit lone.qcow2 2>/dev/null
head -c 1M /dev/zero > raw.img
qemu-img create -q -f qcow2 -b raw.img -F raw over-raw.qcow2
not lq img commit over-raw.qcow2 2>/dev/null

note "fault injection: kill at every fault point, then re-run"
pair f cluster_size=65536 cluster_size=65536 32M
raw_of f-c.qcow2 want.raw
points=$(LVQCOW_FAULT_TRACE=1 bash -c 'cp f-p.qcow2 t-p.qcow2; cp f-c.qcow2 t-c.qcow2
	qemu-img rebase -u -f qcow2 -F qcow2 -b t-p.qcow2 t-c.qcow2
	"$0" img commit t-c.qcow2 2>&1 >/dev/null' "$LQ_BIN" | grep -c '^fault point' || true)
[ "$points" -gt 0 ] || die "commit reached no fault point"
step=$(( (points + 39) / 40 ))           # at most 40 crash runs
killed=0 leaked=0
for ((n = 1; n <= points; n += step)); do
	cp f-p.qcow2 k-p.qcow2
	cp f-c.qcow2 k-c.qcow2
	qemu-img rebase -u -f qcow2 -F qcow2 -b k-p.qcow2 k-c.qcow2
	rc=0
	LVQCOW_FAULT_AT=$n lq img commit k-c.qcow2 >/dev/null 2>&1 || rc=$?
	assert_eq "commit killed (SIGKILL) at point $n" 137 "$rc"
	killed=$((killed + 1))
	rc=$(rc_of qemu-img check k-p.qcow2)
	[ "$rc" = 0 ] || [ "$rc" = 3 ] || die "parent after a kill at point $n: qemu-img check $rc"
	lq img commit k-c.qcow2 >/dev/null
	raw_of k-p.qcow2 got.raw
	cmp_files want.raw got.raw
	rc=$(rc_of qemu-img check k-p.qcow2)
	if [ "$rc" = 3 ]; then
		leaked=$((leaked + 1))
		lq img check --repair leaks k-p.qcow2 >/dev/null
		rc=$(rc_of qemu-img check k-p.qcow2)
	fi
	assert_eq "parent after kill at $n, re-run and repair" 0 "$rc"
done
note "$points fault points, $killed kills, $leaked left leaks (repaired)"

note "SIGKILL before each write syscall of the commit (engine metadata included)"
command -v strace >/dev/null || skip "strace missing (scripts/deps.sh)"
# LeakSanitizer cannot run under ptrace: without it for the traced runs.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0"
# kill_run N: SIGKILL the commit right before its Nth pwrite64.
kill_run() {
	(strace -f -o /dev/null -e trace=pwrite64 -e inject=pwrite64:signal=SIGKILL:when="$1" \
		"$LQ_BIN" img commit k-c.qcow2 >/dev/null 2>&1) 2>/dev/null
}
cp f-p.qcow2 t-p.qcow2
cp f-c.qcow2 t-c.qcow2
qemu-img rebase -u -f qcow2 -F qcow2 -b t-p.qcow2 t-c.qcow2
writes=$(strace -f -c -e trace=pwrite64 "$LQ_BIN" img commit t-c.qcow2 2>&1 >/dev/null |
	awk '$NF == "pwrite64" { print $4 }')
[ "${writes:-0}" -gt 0 ] || die "could not count the commit's writes"
for ((n = 1; n <= writes; n++)); do
	cp f-p.qcow2 k-p.qcow2
	cp f-c.qcow2 k-c.qcow2
	qemu-img rebase -u -f qcow2 -F qcow2 -b k-p.qcow2 k-c.qcow2
	{ kill_run $n; } 2>/dev/null && die "commit survived a SIGKILL before write $n"
	rc=$(rc_of qemu-img check k-p.qcow2)
	[ "$rc" = 0 ] || [ "$rc" = 3 ] || die "parent after SIGKILL before write $n: qemu-img check $rc"
	lq img commit k-c.qcow2 >/dev/null
	raw_of k-p.qcow2 got.raw
	cmp_files want.raw got.raw
	lq img check --repair leaks k-p.qcow2 >/dev/null || die "repair after write $n"
	qcheck k-p.qcow2
done
note "$writes write syscalls, a SIGKILL before each, all recovered"
