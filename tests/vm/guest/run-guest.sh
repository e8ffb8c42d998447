#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-guest.sh ENVFILE: runs in the guest, chrooted into the host's root
# (see tests/vm/initramfs.sh).  ENVFILE (written by tests/vm/run.sh)
# sets PATH, LQ_TOP, LQ_VM_BUILD, LQ_SR_TYPE and either LQ_VM_CMD (one
# command to run, e.g. the demo) or LQ_VM_SUITE (the test list).  The
# scratch disk /dev/vdb (ext4) becomes /tmp, so image data does not fill
# the guest's RAM; LVM gets a configuration for a guest without udev.
# Every result is a "LQVM: " line on the console, which the host reads.
set -u
# shellcheck disable=SC1090
. "$1"
cd /
# A checkout under /tmp stays visible over the scratch disk.
mkdir -p /run/lq-top && mount --bind "$LQ_TOP" /run/lq-top
if mount -t ext4 /dev/vdb /tmp; then
	case $LQ_TOP in
	/tmp/*) mkdir -p "$LQ_TOP" && mount --bind /run/lq-top "$LQ_TOP" ;;
	esac
else
	echo "LQVM: no scratch disk, /tmp stays in RAM"
fi
chmod 1777 /tmp
# No udevd in the guest: LVM creates the /dev nodes itself and scans
# only the virtio disks and loop devices.
export LVM_SYSTEM_DIR=/run/lq-lvm LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p $LVM_SYSTEM_DIR /run/lock/lvm /run/lvm
cat >$LVM_SYSTEM_DIR/lvm.conf <<'CONF'
devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 external_device_info_source = "none"
          global_filter = [ "a|^/dev/vd[a-z]$|", "a|^/dev/loop[0-9]+$|", "r|.*|" ] }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 1 monitoring = 0 }
global { use_lvmlockd = 0 use_aio = 0 }
backup { backup = 0 archive = 0 }
CONF
export LQ_SR_TYPE HOME=/tmp/home
mkdir -p "$HOME"

now() { cut -d' ' -f1 /proc/uptime; }

if [ -n "${LQ_VM_CMD:-}" ]; then
	echo "LQVM: run: $LQ_VM_CMD"
	(cd "$LQ_TOP" && eval "$LQ_VM_CMD") 2>&1 | sed 's/^/LQVM: | /'
	echo "LQVM: exit ${PIPESTATUS[0]}"
	exit 0
fi

pass=0 fail=0 skip=0 failed=""
# result NAME RESULT SECONDS
result() {
	case $2 in
	PASS) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed="$failed $1" ;;
	esac
	echo "LQVM: $2 $1 (${3}s)"
}

# The guest's own tests (tests/vm/guest/test-*.sh): /dev/vda is their PV.
for t in "$LQ_TOP"/tests/vm/guest/test-*.sh; do
	name=$(basename "$t" .sh)
	dir=/tmp/vm-$name
	mkdir -p "$dir"
	start=$(now)
	rc=0
	(cd "$dir" && PATH=$LQ_VM_BUILD:$PATH sh -e "$t") >"$dir.log" 2>&1 || rc=$?
	case $rc in
	0) r=PASS ;;
	77) r=SKIP ;;             # the tests' skip status, as in tests/run.sh
	*) r=FAIL ;;
	esac
	result "$name" $r "$(awk "BEGIN {print $(now) - $start}")"
	[ $r = PASS ] || tail -n 40 "$dir.log" | sed 's/^/LQVM:     /'
done

# The suite: tests/sh tests by name, through tests/run.sh (which
# installs the build into BUILD/root first).
mapfile -t names < <(sed 's/#.*//; /^[[:space:]]*$/d; s/[[:space:]]//g' "$LQ_VM_SUITE")
if [ ${#names[@]} -gt 0 ]; then
	start=$(now)
	# Read as it runs: each result reaches the console when it is known.
	while IFS= read -r line; do
		case $line in
		"PASS "*|"FAIL "*)
			set -- $line
			secs=$(sed -n 's/.*[ (]\([0-9]*\)s).*/\1/p' <<<"$line")
			result "$2" "$1" "$secs" ;;
		"SKIP "*) set -- $line; result "${2%:}" SKIP 0; echo "LQVM:     $line" ;;
		"    "*) echo "LQVM: $line" ;;
		esac
	done < <(LQ_RUN_EXACT=1 "$LQ_TOP/tests/run.sh" "$LQ_VM_BUILD" "${names[@]}" 2>&1 | tee /tmp/suite.log)
	echo "LQVM: tests/run.sh took $(awk "BEGIN {print $(now) - $start}")s"
	for n in "${names[@]}"; do
		grep -qE "^(PASS|FAIL|SKIP) ${n}[ :]" /tmp/suite.log ||
			result "$n" "FAIL(not run)" 0
	done
	grep -q '^shell tests:' /tmp/suite.log || tail -n 20 /tmp/suite.log | sed 's/^/LQVM:     /'
fi
echo "LQVM: guest: $pass passed, $fail failed, $skip skipped"
[ -z "$failed" ] || echo "LQVM: failed:$failed"
