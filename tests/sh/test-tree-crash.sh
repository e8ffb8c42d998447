#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault injection: snapshot, clone, resize, destroy and the collector (in
# both copy directions) killed at every fault point each reaches; after
# recovery every volume reads as before or as after, images are clean,
# and no node is left that nothing uses.
# LQ_TREE_CRASH_OPS picks the operations (lq_tree_crash.py's names).
# They are dealt out to LQ_TREE_CRASH_JOBS (default 2) runs at once,
# each on an SR of its own: on lvqcow, under TCG in the VM bed, the
# whole set takes about 35 minutes in one run.  Two SRs worked on at
# once on one host is also what a pool does.
source "$LQ_TOP/tests/lib.sh"
read -r -a ops <<<"${LQ_TREE_CRASH_OPS:-gc-down gc-up destroy resize clone snapshot}"
jobs=${LQ_TREE_CRASH_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "LQ_TREE_CRASH_JOBS=$jobs: not a count"

# share J: the operations of run J, dealt in turn from the list, whose
# default puts the slowest (the collector's, with the most points) first
# so that the runs end close together.
share() {
	local j=$1 i out=()
	for ((i = j; i < ${#ops[@]}; i += jobs)); do out+=("${ops[i]}"); done
	echo "${out[*]}"
}

pids=()
for ((j = 0; j < jobs && j < ${#ops[@]}; j++)); do
	mkdir "run-$j"
	# shellcheck disable=SC2046
	(cd "run-$j" && exec python3 "$LQ_TESTS/lq_tree_crash.py" sr $(share $j)) >"run-$j.log" 2>&1 &
	pids+=($!)
	at_exit kill_quiet $!
done
failed=0
for j in "${!pids[@]}"; do
	rc=0
	wait "${pids[j]}" || rc=$?
	sed "s/^/[run $j] /" "run-$j.log"
	[ $rc = 0 ] || { echo "run $j ($(share $j)) failed: exit $rc"; failed=1; }
done
[ $failed = 0 ] || die "a fault-injection run failed"
