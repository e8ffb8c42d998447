#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# initramfs.sh KERNEL_DIR OUT: the test guest's initramfs, as a gzip'd
# cpio.  It is only the way into the real root: static busybox, the
# modules kernel.sh chose (in KERNEL_DIR/modules.order-vm) and an /init
# that loads them, mounts the host's root (9p, read-only) and the
# project checkout (9p, read-write, at the same path), gives the root
# its own /proc /sys /dev /run /tmp, and runs the guest runner
# (tests/vm/guest/run-guest.sh) with the host's bash in a chroot.  The
# kernel command line carries LQTOP (the checkout's path) and LQENV (the
# runner's environment file).
set -euo pipefail
kdir=$(realpath "$1") out=$(realpath -m "$2")
root=$(mktemp -d "${TMPDIR:-/tmp}/lq-vm-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,host,modules}

[ -x /bin/busybox ] && file -L /bin/busybox | grep -q "statically linked" ||
	{ echo "initramfs.sh: a static /bin/busybox is needed (apt-get install busybox-static)" >&2; exit 1; }
cp /bin/busybox "$root/bin/busybox"
for a in sh mount mkdir ln cat cut insmod chroot poweroff sleep echo; do
	ln -s busybox "$root/bin/$a"
done
: >"$root/modules/order"
while read -r m; do
	case $m in '#'*) continue ;; esac
	cp "$kdir/$m" "$root/modules/"
	basename "$m" >>"$root/modules/order"
done <"$kdir/modules.order-vm"

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "LQVM: booted in $(cut -d' ' -f1 /proc/uptime)s"
for m in $(cat /modules/order); do insmod /modules/$m || echo "LQVM: insmod $m failed"; done
# The host's root changes under nobody during the run: cache it.  The
# checkout is written by the guest: mmap-coherent, no cache.  /run and
# /tmp are the guest's own, mounted before the checkout, which may live
# under /tmp (where a CI runner may clone it).
opts=trans=virtio,version=9p2000.L,msize=262144
if mount -t 9p -o $opts,cache=loose,ro hostroot /host &&
	mount -t tmpfs run /host/run && mount -t tmpfs tmp /host/tmp &&
	mkdir -p "/host$LQTOP" &&
	mount -t 9p -o $opts,cache=mmap project "/host$LQTOP"; then
	mount -t proc proc /host/proc; mount -t sysfs sys /host/sys
	mount -t devtmpfs dev /host/dev
	mkdir -p /host/dev/pts /host/dev/shm
	ln -s /proc/self/fd /host/dev/fd
	for i in 0 1 2; do ln -s /proc/self/fd/$i /host/dev/std$(echo in out err | cut -d' ' -f$((i + 1))); done
	mount -t devpts devpts /host/dev/pts; mount -t tmpfs shm /host/dev/shm
	echo "LQVM: root mounted at $(cut -d' ' -f1 /proc/uptime)s"
	chroot /host /bin/bash "$LQTOP/tests/vm/guest/run-guest.sh" "$LQENV"
else
	echo "LQVM: the 9p mounts failed"
fi
echo "LQVM: end at $(cut -d' ' -f1 /proc/uptime)s"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
