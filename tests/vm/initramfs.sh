#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# initramfs.sh BUILD KERNEL_DIR KVER OUT: the test guest's whole root, as
# a gzip'd cpio: static busybox, lvm2 (the binary, and liblvm2cmd for
# the plugin), qemu-img/qemu-io when present, the project's BUILD/lvqcow,
# the guest tests (tests/vm/guest/), an lvm.conf for a guest without
# udev, and an /init that loads the modules, runs the tests and powers
# off.  Each binary brings its shared libraries at the paths the host
# has them.
set -euo pipefail
build=$(realpath "$1") kdir=$(realpath "$2") kver=$3 out=$(realpath -m "$4")
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d "${TMPDIR:-/tmp}/lq-vm-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,etc/lvm,proc,sys,dev,run/lock/lvm,run/lvm,tmp,lib/modules,lib64}

[ -x /bin/busybox ] && file -L /bin/busybox | grep -q "statically linked" ||
	{ echo "initramfs.sh: a static /bin/busybox is needed (apt-get install busybox-static)" >&2; exit 1; }
cp /bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
	[ "$a" = busybox ] || [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done

# with_libs FILE DEST: copy FILE to DEST in the root, and its libraries.
with_libs() {
	mkdir -p "$root/$(dirname "$2")"
	cp -L "$1" "$root/$2"
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
		while read -r lib; do
			[ -e "$root/$lib" ] && continue
			mkdir -p "$root/$(dirname "$lib")"
			cp -L "$lib" "$root/$lib"
		done
}
with_libs /sbin/lvm sbin/lvm
for t in pvcreate pvremove pvs vgcreate vgremove vgs lvcreate lvremove lvs lvchange lvresize; do
	ln -s lvm "$root/sbin/$t"
done
[ -x /sbin/dmsetup ] && with_libs /sbin/dmsetup sbin/dmsetup
lvm2cmd=$(ldconfig -p | awk '/liblvm2cmd\.so\.[0-9]/ && /x86-64/ {print $NF; exit}')
[ -n "$lvm2cmd" ] || { echo "initramfs.sh: liblvm2cmd not installed (liblvm2-dev)" >&2; exit 1; }
with_libs "$lvm2cmd" "$lvm2cmd"
for q in qemu-img qemu-io; do
	command -v $q >/dev/null && with_libs "$(command -v $q)" usr/bin/$q
done
with_libs "$build/lvqcow" usr/bin/lvqcow
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"

: >"$root/lib/modules/order"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk dm-mod nbd; do
	f=$(find "$kdir/lib/modules/$kver" -name "$m.ko" | head -1)
	[ -n "$f" ] || continue   # built into this kernel
	cp "$f" "$root/lib/modules/"
	echo "$m.ko" >>"$root/lib/modules/order"
done

# No udevd in the guest: LVM creates the /dev nodes itself.
cat >"$root/etc/lvm/lvm.conf" <<'CONF'
devices { use_devicesfile = 0 global_filter = [ "a|^/dev/vd[a-z]$|", "r|.*|" ]
          obtain_device_list_from_udev = 0 external_device_info_source = "none" }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 1 monitoring = 0 }
global { use_lvmlockd = 0 use_aio = 0 }
backup { backup = 0 archive = 0 }
CONF
printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ndisk:x:6:\n' >"$root/etc/group"

mkdir -p "$root/tests"
cp "$here"/guest/*.sh "$root/tests/"
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/usr/bin:/bin:/sbin LVM_SUPPRESS_FD_WARNINGS=1
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "LQVM: booted in $(cut -d' ' -f1 /proc/uptime)s"
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "LQVM: insmod $m failed"; done
sh /tests/run-guest.sh
echo "LQVM: end at $(cut -d' ' -f1 /proc/uptime)s"
poweroff -f
INIT
chmod +x "$root/init" "$root"/tests/*.sh
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
