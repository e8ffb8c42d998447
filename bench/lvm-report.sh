#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/lvm-report.sh OUT: the table of bench/lvm-guest.sh's rows
# (OUT/rows): per volume count and call, the median over rounds of the
# whole call, its LVM commands run again in process (src/lvm, one fresh
# process per call, library load included) and as the lvm binary (one
# process per command), in ms, and the ratio whole / in process.
set -euo pipefail
out=$1
[ -s "$out/rows" ] || { echo "bench-lvm: no figures in $out/rows" >&2; exit 1; }
cat "$out/log"
printf '\n| volumes | call | rounds | whole call ms | LVM commands | in process ms (first) | ratio | lvm binary ms |\n'
printf '|---|---|---|---|---|---|---|---|\n'
awk '
function med(key,   m, n, i, j, t, a, b) {
	m = split(v[key], b, " "); n = 0
	for (i = 1; i <= m; i++) if (b[i] != "-") a[++n] = b[i]
	m = n
	if (!m) return 0
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
{
	# A call that ran no LVM command (Volume.destroy of a snapshot whose
	# node stays as a parent) is another case: its own line.
	# The collector after a destroy removes (1 command) or coalesces
	# (more): a line per count.
	k = $1 SUBSEP $2 ($5 == 0 ? " (no LVM command)" : $2 ~ /collector/ ? " (" $5 " LVM command" ($5 == 1 ? "" : "s") ")" : "")
	if (!(k in cnt)) order[++nk] = k
	cnt[k]++
	v[k, "w"] = v[k, "w"] " " $4; v[k, "c"] = v[k, "c"] " " $5; v[k, "i"] = v[k, "i"] " " $6
	v[k, "f"] = v[k, "f"] " " $7; v[k, "b"] = v[k, "b"] " " $8
}
END {
	for (o = 1; o <= nk; o++) {
		k = order[o]; split(k, p, SUBSEP)
		w = med(k SUBSEP "w"); i = med(k SUBSEP "i")
		printf "| %s | %s | %d | %.0f | %s | %.0f (%.0f) | %.1fx | %.0f |\n", p[1], p[2], cnt[k], w,
			med(k SUBSEP "c"), i, med(k SUBSEP "f"), (i > 0 ? w / i : 0), med(k SUBSEP "b")
	}
}' "$out/rows"

# Each LVM command's in-process ms by kind and volume count, from the
# replays kept in OUT/cmds (the first command of each call is left out:
# it also pays for loading the library, shown as "first load+cmd").
printf '\nLVM commands in process, mean ms (count) by kind, from OUT/cmds:\n\n'
printf '| volumes | kind | mean ms | commands |\n|---|---|---|---|\n'
for f in "$out"/cmds/*; do
	n=${f##*/}
	awk -v n="${n%%.*}" '
	/^# / { first = 1; next }
	{
		verb = $2; last = $NF; kind = verb
		if (verb == "lvs") kind = (last ~ /\//) ? "lvs VG/LV (one LV)" : "lvs VG (every LV)"
		else if (verb == "lvchange") kind = ($0 ~ / -an /) ? "lvchange -an" : "lvchange -ay"
		if (first) kind = "first load+cmd"
		first = 0
		print n, kind, $1
	}' "$f"
done | awk '{ k = $1 "|" substr($0, index($0, $2)); sub(/ [^ ]*$/, "", k); s[k] += $NF; c[k]++ }
	END { for (k in s) { split(k, p, "|"); printf "| %s | %s | %.0f | %d |\n", p[1], p[2], s[k] / c[k], c[k] } }' |
	sort -t'|' -k2,2n -k3,3
