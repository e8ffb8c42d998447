#!/bin/sh
# install.sh BINARY DESTDIR PREFIX XSS_ROOT
# Installs the multi-call binary and, for every plugin directory listed in
# packaging/*.calls, one relative symlink per call name.
set -e
bin=$1 destdir=$2 prefix=$3 root=$4
here=$(cd "$(dirname "$0")/.." && pwd)
install -D -m 0755 "$bin" "$destdir$prefix/bin/lvqcow"
for list in "$here"/packaging/*.calls; do
	[ -e "$list" ] || continue
	# First line: "dir <plugin directory relative to XSS_ROOT>"; then call names.
	dir=$(sed -n 's/^dir //p' "$list")
	target="$destdir$root/$dir"
	mkdir -p "$target"
	rel=$(realpath -m --relative-to="$target" "$destdir$prefix/bin/lvqcow")
	grep -v '^dir ' "$list" | grep -v '^#' | while read -r call; do
		[ -n "$call" ] || continue
		ln -sfn "$rel" "$target/$call"
	done
done
