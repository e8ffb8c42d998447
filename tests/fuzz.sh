#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# fuzz.sh DIR SECONDS: run every libFuzzer target in DIR for SECONDS each,
# starting from its seed corpus in tests/fuzz/<target>/ when there is one.
# Every seed is first replayed on its own, so an input that once crashed
# (kept as a regression seed) fails the run whatever the fuzzing finds.
set -e
dir=$1 secs=$2
top=$(cd "$(dirname "$0")/.." && pwd)
for f in $(find "$dir" -type f -name 'fuzz-*' 2>/dev/null | sort); do
	name=$(basename "$f")
	corpus=$(mktemp -d)
	seeds="$top/tests/fuzz/$name"
	if [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ]; then
		echo "fuzz: $name: replaying $(ls "$seeds" | wc -l) seeds"
		find "$seeds" -type f -print0 | xargs -0 "$f" -rss_limit_mb=4096 >"$corpus.log" 2>&1 \
			|| { tail -n 60 "$corpus.log"; exit 1; }
	fi
	echo "fuzz: $name for ${secs}s"
	if [ -d "$seeds" ]; then
		"$f" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=4096 "$corpus" "$seeds" >"$corpus.log" 2>&1 \
			|| { tail -n 60 "$corpus.log"; exit 1; }
	else
		"$f" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=4096 "$corpus" >"$corpus.log" 2>&1 \
			|| { tail -n 60 "$corpus.log"; exit 1; }
	fi
	tail -n 1 "$corpus.log"
	rm -rf "$corpus" "$corpus.log"
done
