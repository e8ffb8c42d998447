#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the VM test bed: the fixed cost of a process that runs LVM
# commands, beside the `lvm` binary.  Each figure is the median of
# ROUNDS (default 9) fresh processes, started from bash and timed with
# $EPOCHREALTIME around them:
#   /bin/true              an exec and exit of an empty program
#   lvqcow --help          the plugin's binary (libxml2 and its ICU,
#                          json-c, zlib) and its exit
#   lvm version            the binary: its libraries, an init that
#                          registers the one command it runs, the command
#   lvm-layer -l           liblvm2cmd through src/lvm: its first command
#                          (dlopen, lvm2_init, which registers every LVM
#                          command, and `version`), then a second one,
#                          timed inside the process
# Binaries run from the guest's disk, as bench/lvm-guest.sh runs them.
# Run from the host (after make build/bench/lvm-layer):
#   ./tests/vm/run.sh build "bash $PWD/bench/lvm-load.sh"
set -eu
rounds=${ROUNDS:-9}
bin=/tmp/lq-load.d
mkdir -p "$bin"
cp "$LQ_VM_BUILD/lvqcow" "$LQ_VM_BUILD/bench/lvm-layer" "$bin/"
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
timed() { # NAME CMD...: the median ms of ROUNDS runs
	local name=$1 i t0
	shift
	for ((i = 0; i < rounds; i++)); do
		t0=$EPOCHREALTIME
		"$@" >/dev/null 2>&1 </dev/null
		awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f\n", (b - a) * 1e3}'
	done | median | while read -r ms; do echo "$name: $ms ms"; done
}
timed "/bin/true" /bin/true
timed "lvqcow --help" "$bin/lvqcow" --help
timed "lvm version" lvm version
timed "lvm-layer -l, whole process" "$bin/lvm-layer" -l
for ((i = 0; i < rounds; i++)); do "$bin/lvm-layer" -l; done |
	awk '{print $2, $4}' | sort -n | awk '{f[NR] = $1; s[NR] = $2} END {
		printf "lvm-layer -l inside: first command %s ms, second %s ms (median of first)\n",
			f[int((NR + 1) / 2)], s[int((NR + 1) / 2)] }'
