#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# demo.sh BUILD [TYPE]: a complete lifecycle of an SR of TYPE (fileqcow,
# the default, or lvqcow; LQ_SR_TYPE also sets it), driven through the
# xapi-storage-script mock's xe front exactly as xapi would drive the
# plugin.  Installs BUILD/lvqcow into a temporary root first (as a
# package would) and works in a temporary directory it removes after.
# An lvqcow SR is made on a loop device over a sparse file there, and
# the LVs are listed after each step; it needs a real device-mapper
# (make demo-lvm runs it in the test VM).
set -euo pipefail
build=$(realpath "${1:-build}")
type=${2:-${LQ_SR_TYPE:-fileqcow}}
case $type in
fileqcow|lvqcow) ;;
*) echo "demo: $type is not an SR type (fileqcow, lvqcow)" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/lvqcow-demo.XXXXXX)

# stop_servers: stop the NBD servers this demo started, found by their
# pid files under its own run directory.  A pid is signalled only while
# its command line still names the control socket beside that pid file,
# so a recycled pid is left alone.
stop_servers() {
	local f pid cmd i
	for f in "$tmp"/run/nbd/*/pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null) || continue
		[[ "$pid" =~ ^[0-9]+$ ]] || continue
		cmd=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		grep -qxF -- "${f%/pid}/ctl" <<<"$cmd" || continue
		kill "$pid" 2>/dev/null || continue
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
}
# The demo's status is the status of its last step (or of the step that
# failed), never that of the cleanup.
cleanup() {
	local rc=$?
	set +e
	stop_servers
	[ -z "${loopdev:-}" ] || drop_pv
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
# LQ_DEMO_ROOT: run against what is installed there (a package's root)
root=${LQ_DEMO_ROOT:-$tmp/root}
[ -n "${LQ_DEMO_ROOT:-}" ] || make -s -C "$top" install BUILD="$build" DESTDIR="$root" >/dev/null

export LQ_XSS_ROOT="$root/usr/libexec/xapi-storage-script"
export LVQCOW_RUNDIR="$tmp/run"
export XSS_MOCK_STATE="$tmp/xapi-state.json"
xe() { python3 "$top/tests/mock/xss.py" xe "$@"; }
# vg_of_pv: the VG on the lvqcow SR's loop device (none before sr-create).
vg_of_pv() { lvm pvs --noheadings -o vg_name "$loopdev" 2>/dev/null | tr -d ' '; }
# drop_pv: the lvqcow SR's VG, loop device and file go.
drop_pv() {
	local vg
	vg=$(vg_of_pv || true)
	[ -z "$vg" ] || lvm vgremove -f "$vg" >/dev/null 2>&1
	losetup -d "$loopdev"
}
# show_lvs: for lvqcow, the LVs after a step.
show_lvs() {
	local vg
	[ "$type" = lvqcow ] || return 0
	vg=$(vg_of_pv || true)
	[ -n "$vg" ] || return 0
	printf '\033[1m$ lvs %s\033[0m\n' "$vg"
	lvm lvs "$vg"
}
step() { printf '\n\033[1m$ xe %s\033[0m\n' "$*"; xe "$@"; show_lvs; }
# Steps that look at the qcow2 files themselves are for fileqcow only.
is_file_sr() { [ "$type" = fileqcow ]; }

mkdir "$tmp/sr"
if is_file_sr; then
	dc="device-config:path=$tmp/sr"
	echo "lvqcow demo: plugin tree in $LQ_XSS_ROOT, SR directory $tmp/sr"
else
	truncate -s 8G "$tmp/pv.img"
	loopdev=$(losetup -f --show "$tmp/pv.img")
	dc="device-config:device=$loopdev"
	echo "lvqcow demo: plugin tree in $LQ_XSS_ROOT, SR on $loopdev (a sparse 8 GiB file)"
fi
step plugin-query type=$type
printf '\n\033[1m$ xe sr-create type=%s name-label="Demo SR" %s\033[0m\n' "$type" "$dc"
sr=$(xe sr-create type=$type name-label="Demo SR" "$dc")
echo "$sr"
show_lvs
step sr-list uuid="$sr"
step sr-probe type=$type "$dc"
printf '\n\033[1m$ xe vdi-create sr-uuid=%s name-label="Demo disk" virtual-size=10GiB\033[0m\n' "$sr"
vdi=$(xe vdi-create sr-uuid="$sr" name-label="Demo disk" virtual-size=$((10 << 30)))
echo "$vdi"
show_lvs
step vdi-param-set uuid="$vdi" name-label="Demo disk <renamed> & ünïcødé" \
	name-description="a description" other-config:purpose=demo
step vdi-list sr-uuid="$sr"
if is_file_sr; then
	img=$(ls "$tmp/sr/images/"*.qcow2)
	printf '\n\033[1m$ qemu-img check %s\033[0m\n' "$img"
	qemu-img check "$img"
	printf '\n\033[1m$ qemu-img info %s\033[0m\n' "$img"
	qemu-img info "$img" | sed -n '1,6p'
	printf '\n\033[1m$ ls -ls %s\033[0m\n' "$tmp/sr"
	ls -ls "$tmp/sr"
fi
step sr-scan uuid="$sr"

# The datapath: attach starts the volume's NBD server; a client that no
# one here wrote (qemu-io) writes and reads through it.
printf '\n\033[1m$ xe vdi-attach uuid=%s domain=0\033[0m\n' "$vdi"
backend=$(xe vdi-attach uuid="$vdi" domain=0)
echo "$backend"
show_lvs
nbd=$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print([i[1]["uri"] for i in j["implementations"] if i[0] == "Nbd"][0])' "$backend")
step vdi-activate uuid="$vdi" domain=0
printf '\n\033[1m$ qemu-io -f raw -c "write -P 0xa5 1M 4M" -c "write -P 0x5a 9G 64k" %s\033[0m\n' "$nbd"
qemu-io -f raw -c "write -P 0xa5 1M 4M" -c "write -P 0x5a 9G 64k" "$nbd"
printf '\n\033[1m$ qemu-io -f raw -c "read -P 0xa5 1M 4M" -c "read -P 0x5a 9G 64k" -c "read -P 0 0 1M" %s\033[0m\n' "$nbd"
qemu-io -f raw -c "read -P 0xa5 1M 4M" -c "read -P 0x5a 9G 64k" -c "read -P 0 0 1M" "$nbd" | tee "$tmp/readback"
if grep -q "Pattern verification failed" "$tmp/readback"; then
	echo "demo: data read back through NBD differs" >&2
	exit 1
fi
step vdi-deactivate uuid="$vdi" domain=0
step vdi-detach uuid="$vdi" domain=0
if is_file_sr; then
	printf '\n\033[1m$ qemu-img check %s\033[0m\n' "$img"
	qemu-img check "$img"
	printf '\n\033[1m$ qemu-img map %s\033[0m\n' "$img"
	qemu-img map "$img"
fi

# Snapshots and clones make a tree of qcow2 images; destroying them and
# running the garbage collector brings the volume's chain back to one.
printf '\n\033[1m$ xe vdi-snapshot uuid=%s\033[0m\n' "$vdi"
snap=$(xe vdi-snapshot uuid="$vdi")
echo "$snap"
show_lvs
printf '\n\033[1m$ xe vdi-clone uuid=%s\033[0m\n' "$vdi"
clone=$(xe vdi-clone uuid="$vdi")
echo "$clone"
show_lvs
step vdi-list sr-uuid="$sr"
tree() {
	local f
	is_file_sr || return 0
	printf '\n\033[1m$ qemu-img info (each image: its backing file)\033[0m\n'
	for f in "$tmp/sr/images/"*.qcow2; do
		printf '%s <- %s\n' "$(qemu-img info -U --output=json "$f" |
			python3 -c 'import json,sys; print(json.load(sys.stdin).get("backing-filename", "(base)"))')" \
			"$(basename "$f")"
	done
}
tree
step vdi-destroy uuid="$snap"
step vdi-destroy uuid="$clone"
# Destroy started the collector detached; for a directory SR this waits
# for it and runs whatever is left, and the data is read from the file.
if is_file_sr; then
	printf '\n\033[1m$ lvqcow gc %s\033[0m\n' "$tmp/sr"
	"$root/usr/bin/lvqcow" gc "$tmp/sr"
	tree
	img=$(ls "$tmp/sr/images/"*.qcow2)
	printf '\n\033[1m$ qemu-io -f qcow2 -r -U -c "read -P 0xa5 1M 4M" %s\033[0m\n' "$img"
	qemu-io -f qcow2 -r -U -c "read -P 0xa5 1M 4M" "$img" | tee "$tmp/readback"
	if grep -q "Pattern verification failed" "$tmp/readback"; then
		echo "demo: data differs after the collector" >&2
		exit 1
	fi
fi
step vdi-destroy uuid="$vdi"
! is_file_sr || "$root/usr/bin/lvqcow" gc "$tmp/sr" >/dev/null
step vdi-list sr-uuid="$sr"
step sr-destroy uuid="$sr"
if is_file_sr; then
	printf '\n\033[1m$ ls -A %s\033[0m\n' "$tmp/sr"
	ls -A "$tmp/sr"
else
	printf '\n\033[1m$ pvs %s\033[0m\n' "$loopdev"
	lvm pvs "$loopdev" || true
fi
echo
echo "demo complete"
