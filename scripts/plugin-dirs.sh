#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# plugin-dirs.sh install|remove ROOT BINARY
# The plugin directories of xapi-storage-script (under ROOT) for the
# lvqcow binary at BINARY: one relative symlink to it per call, the names
# from the binary's own call tables (`lvqcow list-calls`).
#
# xapi-storage-script registers a plugin once, when its directory
# appears, and drops it if its Plugin.query fails then; so a directory
# must appear complete.  install builds each new directory in a staging
# directory under ROOT (the daemon watches ROOT/volume and
# ROOT/datapath, not ROOT) and renames it into place; in a directory
# that exists already it replaces each link by a rename and removes the
# links of calls that are gone.  remove takes each directory out of
# sight by a rename first, then deletes our links; a directory holding
# anything else is left in place with those entries.
# Used by `make install` and by the packages' maintainer scripts.
set -eu
action=$1 root=$2 bin=$3

# ours LINK: LINK is a symlink that resolves to the binary.
ours() {
	[ -L "$1" ] && [ "$(realpath -m "$1")" = "$(realpath -m "$bin")" ]
}

fill() { # fill DIR FINAL: links in DIR, relative to where FINAL will be
	rel=$(realpath -m --relative-to="$2" "$bin")
	"$bin" list-calls | while read -r path; do
		if [ "$(dirname "$path")" = "$dir" ]; then
			ln -s "$rel" "$1/$(basename "$path")"
		fi
	done
}

install_dir() {
	mkdir -p "$stage/$dir" "$root/$(dirname "$dir")"
	fill "$stage/$dir" "$root/$dir"
	if [ ! -e "$root/$dir" ]; then
		mv -T "$stage/$dir" "$root/$dir"
		return
	fi
	for l in "$stage/$dir"/*; do
		mv -Tf "$l" "$root/$dir/$(basename "$l")"
	done
	for l in "$root/$dir"/*; do
		if ours "$l" && ! "$bin" list-calls | grep -qxF "$dir/$(basename "$l")"; then
			rm -f "$l"
		fi
	done
}

remove_dir() {
	[ -d "$root/$dir" ] || return 0
	mv -T "$root/$dir" "$stage/gone"
	for l in "$stage/gone"/* "$stage/gone"/.[!.]*; do
		if ours "$l"; then
			rm -f "$l"
		fi
	done
	rmdir "$stage/gone" 2>/dev/null || mv -T "$stage/gone" "$root/$dir"
}

case $action in
install | remove) ;;
*) echo "usage: plugin-dirs.sh install|remove ROOT BINARY" >&2; exit 2 ;;
esac
dirs=$("$bin" list-calls | sed 's|/[^/]*$||' | sort -u)
[ -n "$dirs" ] || { echo "plugin-dirs.sh: $bin list-calls printed nothing" >&2; exit 1; }
mkdir -p "$root"
stage=$(mktemp -d "$root/.lvqcow-staging.XXXXXX")
trap 'rm -rf "$stage"' EXIT
for dir in $dirs; do
	"${action}_dir"
done
