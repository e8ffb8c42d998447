#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# install.sh BINARY DESTDIR PREFIX XSS_ROOT [PLUGIN_DIRS]
# Installs the multi-call binary, the manual pages, the documentation and
# scripts/plugin-dirs.sh, then (unless PLUGIN_DIRS is 0, as for the
# packages, whose maintainer scripts do it) the plugin directories with
# one relative symlink to the binary per call name (plugin-dirs.sh: each
# directory appears complete, by a rename).
set -e
bin=$1 destdir=$2 prefix=$3 root=$4 plugin_dirs=${5:-1}
top=$(cd "$(dirname "$0")/.." && pwd)
install -D -m 0755 "$bin" "$destdir$prefix/bin/lvqcow"
install -D -m 0644 "$top/man/lvqcow.8" "$destdir$prefix/share/man/man8/lvqcow.8"
install -D -m 0644 "$top/man/lvqcow-sr.5" "$destdir$prefix/share/man/man5/lvqcow-sr.5"
install -D -m 0755 "$top/scripts/plugin-dirs.sh" "$destdir$prefix/share/lvqcow/plugin-dirs.sh"
install -d "$destdir$prefix/share/doc/lvqcow"
install -m 0644 "$top/README.md" "$top/LICENSE" "$top"/docs/*.md "$destdir$prefix/share/doc/lvqcow/"
[ "$plugin_dirs" = 0 ] && exit 0
"$top/scripts/plugin-dirs.sh" install "$destdir$root" "$destdir$prefix/bin/lvqcow"
