#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/lvm-vm.sh BUILD: lvqcow calls on an lvqcow SR in the test guest
# (tests/vm/run.sh) at LQ_BENCH_COUNTS volumes (default "10 100 1000"),
# LQ_BENCH_ROUNDS rounds (default 3; the LVM commands are run again in
# the first LQ_BENCH_REPLAYS, default all), set beside the same LVM commands in
# process and as the lvm binary (bench/lvm-guest.sh says how).  The PV
# is a sparse LQ_VM_PV_SIZE disk (default 16G: 1000 volumes of one or
# two 4 MiB extents).  Figures go to BUILD/bench-lvm, the table to
# stdout (bench/lvm-report.sh).  A measurement, not a test.
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
out=$build/bench-lvm
echo "bench-lvm: host load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
rounds=${LQ_BENCH_ROUNDS:-3}
cmd=$(printf 'LQ_BENCH_COUNTS=%q LQ_BENCH_ROUNDS=%q LQ_BENCH_REPLAYS=%q LQ_BENCH_JOBS=%q ./bench/lvm-guest.sh %q %q' \
	"${LQ_BENCH_COUNTS:-10 100 1000}" "$rounds" "${LQ_BENCH_REPLAYS:-$rounds}" "${LQ_BENCH_JOBS:-3}" \
	"$build" "$out")
rc=0
LQ_VM_PV_SIZE=${LQ_VM_PV_SIZE:-16G} LQ_VM_TIMEOUT=${LQ_VM_TIMEOUT:-10800} \
	"$here/../tests/vm/run.sh" "$build" "$cmd" || rc=$?
echo "bench-lvm: host load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
"$here/lvm-report.sh" "$out"
exit $rc
