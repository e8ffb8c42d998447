#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Packages: `make deb` and `make rpm` build from this tree; the .deb
# installs into a scratch root (dpkg --root, maintainer scripts run with
# DPKG_ROOT), where its plugin directories appear, each by one rename,
# and the demo's lifecycle (tests/demo.sh) runs against the installed
# binary and links; the
# file lists of the .deb and the .rpm agree; purging leaves nothing.
source "$LQ_TOP/tests/lib.sh"
for tool in dpkg-buildpackage dh rpmbuild strace; do
	command -v "$tool" >/dev/null || skip "$tool not installed (scripts/deps.sh)"
done
[ "$(id -u)" = 0 ] || skip "dpkg --root needs root"
# The packages are built from the sources, not from the binary under
# test: the ASan run would only build them a second time.
! ldd "$LQ_BIN" | grep -q libasan || skip "packages are checked by the plain run"

note "make deb, make rpm"
make -s -C "$LQ_TOP" deb rpm PKG_OUT="$PWD/pkg" >build.log 2>&1 || { cat build.log; die "building the packages failed"; }
deb=$(ls pkg/lvqcow_*.deb) rpm=$(ls pkg/lvqcow-*.rpm)

note "the .deb declares its runtime dependencies"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libjson-c5 libxml2 zlib1g liblvm2cmd2.03; do
	grep -qw "$d" <<<"$depends" || die "$deb does not depend on $d: $depends"
done
requires=$(rpm -qpR "$rpm" 2>/dev/null)
for d in json-c libxml2 zlib lvm2-libs; do
	grep -qx "$d" <<<"$requires" || die "$rpm does not require $d: $requires"
done

note "the .deb and the .rpm hold the same files"
# files and symlinks, not directories; compressed or not; Debian's own changelog aside
deb_files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed -e 's|^\./|/|' -e 's|\.gz$||' |
	grep -vx /usr/share/doc/lvqcow/changelog.Debian | sort)
rpm_files=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null | awk '$1 !~ /^d/ {print $2}' |
	sed 's|\.gz$||' | sort)
assert_eq "file lists" "$deb_files" "$rpm_files"
for f in /usr/bin/lvqcow /usr/share/man/man8/lvqcow.8 /usr/share/man/man5/lvqcow-sr.5 \
	/usr/share/doc/lvqcow/README.md /usr/share/lvqcow/plugin-dirs.sh; do
	grep -qx "$f" <<<"$deb_files" || die "$f is not in the packages"
done
! grep -q xapi-storage-script <<<"$deb_files" || die "plugin links shipped as package files"

note "installing the .deb into a scratch root"
R=$PWD/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/log"
touch "$R/var/lib/dpkg/status"
dpkg_r() { dpkg --root="$R" --force-script-chrootless --force-depends "$@" >>dpkg.log 2>&1 || { cat dpkg.log; die "dpkg $*"; }; }
dpkg_r -i "$deb"
xss=$R/usr/libexec/xapi-storage-script
want=$("$R/usr/bin/lvqcow" list-calls | sort)
have=$(cd "$xss" && find . -mindepth 1 ! -type d | sed 's|^\./||' | sort)
assert_eq "installed calls" "$want" "$have"
head -c 4 "$R/usr/bin/lvqcow" | cmp -s - <(printf '\177ELF') || die "installed binary is not an ELF file"
python3 -c 'import sys, zipfile; sys.exit(zipfile.is_zipfile(sys.argv[1]) == False)' "$R/usr/bin/lvqcow" ||
	die "the installed binary lost its zip archive (stripped?)"

note "the demo's lifecycle against the installed package"
LQ_DEMO_ROOT=$R bash "$LQ_TOP/tests/demo.sh" >demo.log 2>&1 || { tail -n 40 demo.log; die "the demo failed on the package"; }

note "the plugin directories appear by a rename, never empty"
R2=$PWD/root2
strace -f -qq -e trace=mkdir,mkdirat,rename,renameat,renameat2 -o dirs.log \
	"$R/usr/share/lvqcow/plugin-dirs.sh" install "$R2" "$R/usr/bin/lvqcow" ||
	die "plugin-dirs.sh install failed"
for d in volume/org.xen.xapi.storage.fileqcow datapath/lvqcow; do
	! grep -E "mkdir(at)?\(.*\"$R2/$d\"" dirs.log || die "$d was made in place"
	grep -qE "rename(at2?)?\(.*\"$R2/$d\"" dirs.log || die "$d did not appear by a rename: $(cat dirs.log)"
done
assert_eq "staging left" "" "$(find "$R2" -maxdepth 1 -name '.lvqcow-staging*')"

note "purging leaves nothing behind"
dpkg_r --purge lvqcow
left=$(cd "$R" && find . ! -type d ! -path './var/lib/dpkg/*' ! -path './var/log/*')
assert_eq "files left" "" "$left"
left=$(cd "$R" && find . -mindepth 1 -type d ! -path './var*' ! -path './usr' ! -path './usr/libexec' \
	! -path './usr/libexec/xapi-storage-script' ! -path './usr/libexec/xapi-storage-script/volume' \
	! -path './usr/libexec/xapi-storage-script/datapath')
assert_eq "directories left" "" "$left"
