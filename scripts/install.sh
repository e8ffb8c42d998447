#!/bin/sh
# install.sh BINARY DESTDIR PREFIX XSS_ROOT
# Installs the multi-call binary and one relative symlink to it per call
# name in every plugin directory.  The names come from the binary's own
# call tables (`lvqcow list-calls`), so what is installed is exactly what
# dispatches.  Also installs the manual pages.
set -e
bin=$1 destdir=$2 prefix=$3 root=$4
top=$(cd "$(dirname "$0")/.." && pwd)
install -D -m 0755 "$bin" "$destdir$prefix/bin/lvqcow"
install -D -m 0644 "$top/man/lvqcow.8" "$destdir$prefix/share/man/man8/lvqcow.8"
install -D -m 0644 "$top/man/lvqcow-sr.5" "$destdir$prefix/share/man/man5/lvqcow-sr.5"
paths=$("$bin" list-calls)
[ -n "$paths" ] || { echo "install.sh: $bin list-calls printed nothing" >&2; exit 1; }
printf '%s\n' "$paths" | while read -r path; do
	target="$destdir$root/$(dirname "$path")"
	mkdir -p "$target"
	rel=$(realpath -m --relative-to="$target" "$destdir$prefix/bin/lvqcow")
	ln -sfn "$rel" "$target/$(basename "$path")"
done
