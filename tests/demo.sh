#!/bin/bash
# demo.sh BUILD: a complete lifecycle of a fileqcow SR, driven through the
# xapi-storage-script mock's xe front exactly as xapi would drive the
# plugin.  Installs BUILD/lvqcow into a temporary root first (as a
# package would) and works in a temporary directory it removes after.
set -euo pipefail
build=$(realpath "${1:-build}")
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/lvqcow-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
make -s -C "$top" install BUILD="$build" DESTDIR="$tmp/root" >/dev/null

export LQ_XSS_ROOT="$tmp/root/usr/libexec/xapi-storage-script"
export LVQCOW_RUNDIR="$tmp/run"
export XSS_MOCK_STATE="$tmp/xapi-state.json"
xe() { python3 "$top/tests/mock/xss.py" xe "$@"; }
step() { printf '\n\033[1m$ xe %s\033[0m\n' "$*"; xe "$@"; }

mkdir "$tmp/sr"
echo "lvqcow demo: plugin tree in $LQ_XSS_ROOT, SR directory $tmp/sr"
step plugin-query type=fileqcow
printf '\n\033[1m$ xe sr-create type=fileqcow name-label="Demo SR" device-config:path=%s\033[0m\n' "$tmp/sr"
sr=$(xe sr-create type=fileqcow name-label="Demo SR" device-config:path="$tmp/sr")
echo "$sr"
step sr-list uuid="$sr"
step sr-probe type=fileqcow device-config:path="$tmp/sr"
printf '\n\033[1m$ xe vdi-create sr-uuid=%s name-label="Demo disk" virtual-size=10GiB\033[0m\n' "$sr"
vdi=$(xe vdi-create sr-uuid="$sr" name-label="Demo disk" virtual-size=$((10 << 30)))
echo "$vdi"
step vdi-param-set uuid="$vdi" name-label="Demo disk <renamed> & ünïcødé" \
	name-description="a description" other-config:purpose=demo
step vdi-list sr-uuid="$sr"
img=$(ls "$tmp/sr/images/"*.qcow2)
printf '\n\033[1m$ qemu-img check %s\033[0m\n' "$img"
qemu-img check "$img"
printf '\n\033[1m$ qemu-img info %s\033[0m\n' "$img"
qemu-img info "$img" | sed -n '1,6p'
printf '\n\033[1m$ cat %s\033[0m\n' "$tmp/sr/lvqcow-sr.xml"
cat "$tmp/sr/lvqcow-sr.xml"
step sr-scan uuid="$sr"
step vdi-destroy uuid="$vdi"
step vdi-list sr-uuid="$sr"
step sr-destroy uuid="$sr"
printf '\n\033[1m$ ls -A %s\033[0m\n' "$tmp/sr"
ls -A "$tmp/sr"
echo
echo "demo complete"
