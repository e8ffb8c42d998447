#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/meta.sh BUILD: the latency of each fileqcow call against the number
# of volumes in the SR.  BUILD is installed the way tests/run.sh installs it
# (make install DESTDIR=<scratch>), and the installed call executables run
# as xapi-storage-script runs them: one process per call, JSON on stdin
# (bench/meta.py).  At each SR size the SR is first filled (untimed), then
# every call is timed LQ_BENCH_ROUNDS times; the table gives median and p90
# wall time, the CPU time, the ratios to the smallest size and the verdict
# against the goal (single-volume calls and SR.stat at 2000 volumes within
# 1.5x of 20, SR.ls within 10x).  Plugin.query, which does not touch the
# SR, is the baseline: the cost of starting a call; each ratio is also
# given divided by the baseline's own ratio, which removes the drift of a
# shared machine between sizes measured minutes apart.  Results:
# docs/bench-meta.md.
#
#   LQ_BENCH_SIZES   SR sizes (default "20 200 2000 10000")
#   LQ_BENCH_ROUNDS  calls per figure (default 15)
#   LQ_BENCH_JOBS    parallel callers while filling the SR (default 2)
#   LQ_BENCH_KEEP=1  keep the scratch directory
#
# The verdict is printed, not enforced: this is a measurement, not a test.
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
sizes=${LQ_BENCH_SIZES:-20 200 2000 10000}
work=$(mktemp -d /tmp/lq-bench-meta.XXXXXX)
cleanup() {
	local rc=$?
	[ $rc = 0 ] || { echo "bench-meta: failed; last plugin log lines:" >&2
		tail -n 20 "$work/calls.log" >&2 2>/dev/null || true; }
	[ "${LQ_BENCH_KEEP:-0}" = 1 ] && echo "bench-meta: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE # so that cleanup runs on these too

make -s -C "$top" install BUILD="$build" DESTDIR="$work/root" >/dev/null
plugin=$work/root/usr/libexec/xapi-storage-script/volume/org.xen.xapi.storage.fileqcow
export LVQCOW_RUNDIR=$work/run
mkdir -p "$LVQCOW_RUNDIR"

echo "bench-meta: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"sizes $sizes, rounds ${LQ_BENCH_ROUNDS:-15}, scratch on $(df --output=fstype "$work" | tail -1)"
# shellcheck disable=SC2086 # the sizes are separate arguments
python3 "$here/meta.py" "$plugin" "$work" $sizes
