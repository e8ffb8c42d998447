#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel.sh DIR: a Debian kernel for the test guest, in DIR/kernel:
# vmlinuz and the modules the guest loads, with everything they depend
# on (modinfo's "depends").  Prints "KERNEL_DIR KVER"; the module load
# order (dependencies first) is in KERNEL_DIR/modules.order-vm.  The
# kernel package is downloaded with apt (not installed) and only those
# files are unpacked; both are kept in DIR for the next run.  The
# package is the one linux-image-amd64 depends on, unless
# LQ_VM_KERNEL_PKG names another.
set -euo pipefail
dir=$(realpath -m "$1")
mkdir -p "$dir/deb" "$dir/kernel"
# The guest's needs: virtio block and 9p (its root is the host's), loop,
# nbd and device-mapper (the storage under test), ext4 and crc32c (the
# scratch disk).
want=(virtio_pci virtio_blk 9pnet_virtio 9p loop nbd dm-mod ext4 crc32c_generic)
pkg=${LQ_VM_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}
[ -n "$pkg" ] || { echo "kernel.sh: no linux-image package known to apt (apt-get update?)" >&2; exit 1; }
kver=${pkg#linux-image-}
kdir=$dir/kernel
stamp="$kdir/modules.order-vm"
if [ -e "$kdir/boot/vmlinuz-$kver" ] && [ -e "$stamp" ] &&
	[ "$(head -1 "$stamp")" = "# ${want[*]}" ]; then
	echo "$kdir $kver"
	exit 0
fi
deb=$(ls "$dir/deb/${pkg}_"*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	(cd "$dir/deb" && apt-get download -q "$pkg" >&2) ||
		{ echo "kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
	deb=$(ls "$dir/deb/${pkg}_"*.deb | tail -1)
fi
listing=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep "^\./lib/modules/$kver/.*\.ko$")
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" "./boot/vmlinuz-$kver"

# path_of NAME: the package member of module NAME ("-" and "_" are one).
path_of() {
	local re=${1//[-_]/[-_]}
	grep -m1 -E "/$re\.ko$" <<<"$listing" || true
}
# deps_of FILE: the modules FILE needs (its .modinfo "depends=" string;
# no modinfo needed on the host).
deps_of() {
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '
}
# Unpack level by level (one pass over the package each), then order so
# that every module comes after what it needs.
declare -A member_of=() deps=()
level=("${want[@]}")
while [ ${#level[@]} -gt 0 ]; do
	members=()
	for m in "${level[@]}"; do
		[ -z "${member_of[$m]+x}" ] || continue
		member_of[$m]=$(path_of "$m")   # empty: built into this kernel
		[ -z "${member_of[$m]}" ] || members+=("${member_of[$m]}")
	done
	[ ${#members[@]} -gt 0 ] || break
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" "${members[@]}"
	next=()
	for m in "${level[@]}"; do
		[ -n "${member_of[$m]}" ] && [ -z "${deps[$m]+x}" ] || continue
		deps[$m]=$(deps_of "$kdir/${member_of[$m]}")
		read -ra more <<<"${deps[$m]}"
		next+=("${more[@]}")
	done
	level=("${next[@]}")
done
declare -A placed=()
order=()
place() {
	local m=$1 d
	[ -z "${placed[$m]:-}" ] || return 0
	placed[$m]=1
	for d in ${deps[$m]:-}; do place "$d"; done
	[ -z "${member_of[$m]}" ] || order+=("${member_of[$m]#./}")
}
for m in "${want[@]}"; do place "$m"; done
{ echo "# ${want[*]}"; printf '%s\n' "${order[@]}"; } >"$stamp"
echo "$kdir $kver"
