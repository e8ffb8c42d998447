#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh BUILD [CMD...]: the VM test bed.  Boots a Debian kernel under
# qemu (TCG unless KVM is usable) whose root is the host's own
# filesystem (9p, read-only) with this checkout shared read-write, a
# sparse raw disk as /dev/vda (the guest tests' PV) and an ext4 scratch
# disk as /dev/vdb (the guest's /tmp).  Without CMD the guest runs
# tests/vm/guest/test-*.sh and the tests named in tests/vm/suite; this
# prints the results and fails unless the guest booted, ran a test and
# all passed.  With CMD the guest runs CMD in the checkout instead and
# the exit status is CMD's.  LQ_SR_TYPE (default lvqcow) is passed on.
# Kernel, initramfs and disks live in BUILD/vm.  LQ_VM_PV_SIZE (default
# 2G) sizes /dev/vda, LQ_VM_TIMEOUT (s, default 2700) bounds the run.
set -euo pipefail
build=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")
vm=$build/vm
mkdir -p "$vm"
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "check-vm: qemu-system-x86_64 is missing (apt-get install qemu-system-x86)" >&2; exit 1; }
case $top$build in
*[[:space:]]*) echo "check-vm: the checkout's path must not contain blanks" >&2; exit 1 ;;
esac
read -r kdir kver < <("$here/kernel.sh" "$vm")
"$here/initramfs.sh" "$kdir" "$vm/initramfs.cpio.gz"
rm -f "$vm/pv.img" "$vm/scratch.img"
truncate -s "${LQ_VM_PV_SIZE:-2G}" "$vm/pv.img"
truncate -s "${LQ_VM_SCRATCH:-16G}" "$vm/scratch.img"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$vm/scratch.img"
# The runner's environment: what the host's shell would give the tests.
{
	printf 'export PATH=%q LQ_TOP=%q LQ_VM_BUILD=%q LQ_SR_TYPE=%q\n' \
		"$PATH" "$top" "$build" "${LQ_SR_TYPE:-lvqcow}"
	printf 'LQ_VM_SUITE=%q LQ_VM_CMD=%q\n' "$here/suite" "${*:-}"
} >"$vm/guest.env"
# KVM only where the CPU offers virtualisation: some hosts have a
# writable /dev/kvm on which a guest never gets past its firmware.
accel=${LQ_VM_ACCEL:-tcg}
[ -z "${LQ_VM_ACCEL:-}" ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && accel=kvm
start=$(date +%s)
rc=0
timeout "${LQ_VM_TIMEOUT:-2700}" qemu-system-x86_64 -accel $accel -m "${LQ_VM_MEM:-2048}" -smp 2 -cpu max \
	-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$vm/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 LQTOP=$top LQENV=$vm/guest.env" \
	-drive "file=$vm/pv.img,format=raw,if=virtio,cache=unsafe" \
	-drive "file=$vm/scratch.img,format=raw,if=virtio,cache=unsafe" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$top,mount_tag=project,security_model=none,multidevs=remap" \
	-nographic -no-reboot -nic none -monitor none -serial stdio </dev/null >"$vm/guest.log" 2>&1 || rc=$?
lines=$(tr -d '\r' <"$vm/guest.log" | sed -n 's/.*LQVM: //p')
printf '%s\n' "$lines"
echo "check-vm: qemu ran $(( $(date +%s) - start ))s (accel $accel, exit $rc); log: $vm/guest.log"
if [ $# -gt 0 ]; then
	status=$(sed -n 's/^exit \([0-9]*\)$/\1/p' <<<"$lines")
	[ -n "$status" ] || { echo "check-vm: the guest did not run $*" >&2; tail -n 20 "$vm/guest.log" >&2; exit 1; }
	exit "$status"
fi
summary=$(sed -n 's/^guest: //p' <<<"$lines")
if [ -z "$summary" ]; then
	echo "check-vm: the guest did not boot or did not finish; last lines:" >&2
	tail -n 20 "$vm/guest.log" >&2
	exit 1
fi
case $summary in
*" 0 failed,"*) ;;
*) exit 1 ;;
esac
grep -q "^0 passed" <<<"$summary" && { echo "check-vm: no test ran in the guest" >&2; exit 1; }
exit 0
