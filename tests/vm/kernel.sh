#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel.sh DIR: a Debian kernel for the test guest, in DIR/kernel:
# vmlinuz and the few modules the guest loads (device-mapper, virtio
# block).  The kernel package is downloaded with apt (not installed) and
# only those files are unpacked; both are kept in DIR for the next run.
# The package is the one linux-image-amd64 depends on, unless
# LQ_VM_KERNEL_PKG names another.
set -euo pipefail
dir=$(realpath -m "$1")
mkdir -p "$dir/deb" "$dir/kernel"
pkg=${LQ_VM_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}
[ -n "$pkg" ] || { echo "kernel.sh: no linux-image package known to apt (apt-get update?)" >&2; exit 1; }
kver=${pkg#linux-image-}
if [ -e "$dir/kernel/boot/vmlinuz-$kver" ]; then
	echo "$dir/kernel $kver"
	exit 0
fi
deb=$(ls "$dir/deb/${pkg}_"*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	(cd "$dir/deb" && apt-get download -q "$pkg" >&2) ||
		{ echo "kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
	deb=$(ls "$dir/deb/${pkg}_"*.deb | tail -1)
fi
mods=(drivers/md/dm-mod.ko drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko
	drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko
	drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko drivers/block/nbd.ko)
members=("./boot/vmlinuz-$kver")
for m in "${mods[@]}"; do members+=("./lib/modules/$kver/kernel/$m"); done
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/kernel" "${members[@]}"
echo "$dir/kernel $kver"
