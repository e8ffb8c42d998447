#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The manual pages: installed by make install, rendered by groff and man
# without a warning, and lvqcow.8 lists exactly the commands, img
# subcommands and options that the binary's --help texts print
# (tests/lq_man.py).
source "$LQ_TOP/tests/lib.sh"
man8=$LQ_DESTDIR/usr/share/man/man8/lvqcow.8
man5=$LQ_DESTDIR/usr/share/man/man5/lvqcow-sr.5
[ -f "$man8" ] && [ -f "$man5" ] || die "make install did not install the manual pages"
command -v groff >/dev/null || skip "groff not installed (scripts/deps.sh installs groff-base)"

for page in "$man8" "$man5"; do
	note "rendering $(basename "$page")"
	out=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || die "groff failed on $page: $out"
	[ -z "$out" ] || die "groff warnings on $page: $out"
	if command -v man >/dev/null; then
		out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || die "man -l $page failed: $out"
		[ -z "$out" ] || die "man warnings on $page: $out"
	fi
done
text=$(MANWIDTH=80 man -l "$man5" 2>/dev/null || groff -man -Tutf8 "$man5")
for want in fileqcow device-config path= sr_uuid lvqcow-sr.meta /run/lvqcow LVQCOW_RUNDIR; do
	grep -qF -- "$want" <<<"$text" || die "lvqcow-sr.5 does not mention $want"
done

note "lvqcow.8 against --help"
python3 "$LQ_TESTS/lq_man.py" "$LQ_BIN" "$man8"
