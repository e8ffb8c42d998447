# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests/lib.sh and bench/lvm-host.sh (no test set-up here).

# lvm_confine DEV...: an lvm.conf of the test's own (./etc) that sees only
# these devices and activates nothing (this kernel has no device-mapper),
# exported through LVM_SYSTEM_DIR for the lvm binary and the plugin.
lvm_confine() {
	local filter="" d
	for d in "$@"; do filter="$filter\"a|^$d\$|\", "; done
	mkdir -p etc
	cat >etc/lvm.conf <<EOF
devices { use_devicesfile = 0 global_filter = [ $filter"r|.*|" ]
          obtain_device_list_from_udev = 0 external_device_info_source = "none" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
global { activation = 0 use_lvmlockd = 0 use_aio = 0 }
backup { backup = 0 archive = 0 }
EOF
	export LVM_SYSTEM_DIR=$PWD/etc LVM_SUPPRESS_FD_WARNINGS=1
}
