#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# build.sh deb|rpm OUTDIR: build the Debian or the RPM package from this
# tree (what git tracks plus untracked files it does not ignore), in a
# scratch directory; the package lands in OUTDIR.
set -euo pipefail
kind=$1 out=$(realpath -m "$2")
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^#define LVQCOW_VERSION "\(.*\)"/\1/p' "$top/include/lq/version.h")
tmp=$(mktemp -d /tmp/lvqcow-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/lvqcow-$version
mkdir -p "$src" "$out"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -d -t "$src")

case $kind in
deb)
	cp -r "$src/packaging/debian" "$src/debian"
	(cd "$src" && dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1) ||
		{ tail -n 30 "$tmp/build.log" >&2; exit 1; }
	cp "$tmp"/lvqcow_"$version"-*.deb "$out/"
	;;
rpm)
	mkdir -p "$tmp/rpm/SOURCES"
	tar -C "$tmp" -czf "$tmp/rpm/SOURCES/lvqcow-$version.tar.gz" "lvqcow-$version"
	# --nodeps: on a Debian host the rpm database knows no build dependencies
	rpmbuild -bb --nodeps --define "_topdir $tmp/rpm" "$src/packaging/rpm/lvqcow.spec" \
		>"$tmp/build.log" 2>&1 || { tail -n 30 "$tmp/build.log" >&2; exit 1; }
	cp "$tmp"/rpm/RPMS/*/lvqcow-"$version"-*.rpm "$out/"
	;;
*)
	echo "usage: build.sh deb|rpm OUTDIR" >&2
	exit 2
	;;
esac
