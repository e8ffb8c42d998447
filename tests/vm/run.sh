#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh BUILD: the VM tests.  Boots a Debian kernel under qemu (TCG
# unless /dev/kvm is usable) with an initramfs holding BUILD/lvqcow,
# lvm2 and tests/vm/guest/, and a sparse raw disk as /dev/vda (the PV);
# prints the guest's results and fails unless the guest booted, ran
# every test and all passed.  Kernel and images live in BUILD/vm.
set -euo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
vm=$build/vm
mkdir -p "$vm"
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "check-vm: qemu-system-x86_64 is missing (apt-get install qemu-system-x86)" >&2; exit 1; }
read -r kdir kver < <("$here/kernel.sh" "$vm")
"$here/initramfs.sh" "$build" "$kdir" "$kver" "$vm/initramfs.cpio.gz"
rm -f "$vm/pv.img"
truncate -s 2G "$vm/pv.img"
accel=tcg
[ -w /dev/kvm ] && accel=kvm
start=$(date +%s)
rc=0
timeout "${LQ_VM_TIMEOUT:-900}" qemu-system-x86_64 -accel $accel -m 1024 -smp 1 -cpu max \
	-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$vm/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3" \
	-drive "file=$vm/pv.img,format=raw,if=virtio,cache=unsafe" \
	-nographic -no-reboot -nic none -monitor none -serial stdio </dev/null >"$vm/guest.log" 2>&1 || rc=$?
# The guest's own lines (the firmware's screen escapes may precede one).
tr -d '\r' <"$vm/guest.log" | sed -n 's/.*LQVM: //p'
echo "check-vm: qemu ran $(( $(date +%s) - start ))s (accel $accel, exit $rc); log: $vm/guest.log"
summary=$(tr -d '\r' <"$vm/guest.log" | sed -n 's/.*LQVM: guest: //p')
if [ -z "$summary" ]; then
	echo "check-vm: the guest did not boot or did not finish; last lines:" >&2
	tail -n 20 "$vm/guest.log" >&2
	exit 1
fi
case $summary in
*" 0 failed") ;;
*) exit 1 ;;
esac
grep -q "^0 passed" <<<"$summary" && { echo "check-vm: no test ran in the guest" >&2; exit 1; }
exit 0
