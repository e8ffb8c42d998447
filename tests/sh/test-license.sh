#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The tree carries its license, and every source file names it in an
# SPDX line near its top (the packages install LICENSE with the docs).
source "$LQ_TOP/tests/lib.sh"
spdx="SPDX-License-Identifier: LGPL-2.1-or-later"
grep -q "GNU LESSER GENERAL PUBLIC LICENSE" "$LQ_TOP/LICENSE" || die "LICENSE is not the LGPL"
grep -q "Version 2.1" "$LQ_TOP/LICENSE" || die "LICENSE is not version 2.1"
missing=0 checked=0
while IFS= read -r f; do
	case "$f" in
	*.c | *.h | *.py | *.sh | Makefile | */Makefile | *.spec | man/*.[0-9] | packaging/debian/rules | \
	packaging/debian/postinst | packaging/debian/prerm | .ci/run) ;;
	*) continue ;;
	esac
	checked=$((checked + 1))
	head -n 3 "$LQ_TOP/$f" | grep -qF "$spdx" || { echo "no SPDX line: $f"; missing=$((missing + 1)); }
done < <(git -C "$LQ_TOP" ls-files)
[ "$checked" -gt 100 ] || die "only $checked source files found"
[ "$missing" = 0 ] || die "$missing of $checked source files lack \"$spdx\""
[ -f "$LQ_DESTDIR/usr/share/doc/lvqcow/LICENSE" ] || die "make install does not install LICENSE"
echo "ok: $checked source files"
