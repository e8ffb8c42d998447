#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the Debian packages that building, testing and benchmarking need.
# Quiet when everything is present; needs root (or sudo) otherwise.
set -e
PKGS="build-essential pkg-config libjson-c-dev libxml2-dev zlib1g-dev libcmocka-dev
liblvm2-dev lvm2 qemu-utils libnbd-bin fio clang libclang-rt-14-dev python3 xxd strace bc
util-linux procps jq qemu-system-x86 busybox-static cpio e2fsprogs file groff-base man-db
dpkg-dev debhelper fakeroot rpm"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $missing >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }
