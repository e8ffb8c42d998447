#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The SR-type helpers of tests/lib.sh and tests/mock/lqtest.py: the type
# comes from LQ_SR_TYPE (default fileqcow, anything else refused), the
# plugin path follows it, a new fileqcow device-config is a new empty
# directory; a new lvqcow one is a loop device over a sparse file of the
# size asked, which is gone (device, file and any VG on it) when the test
# exits.  The lvqcow half needs a real device-mapper (the VM bed).
. "$LQ_TOP/tests/lib.sh"

note "type and plugin"
assert_eq "default type" fileqcow "$(LQ_SR_TYPE='' lq_sr_type)"
assert_eq "lvqcow type" lvqcow "$(LQ_SR_TYPE=lvqcow lq_sr_type)"
not env LQ_SR_TYPE=xfs bash -c ". '$LQ_TOP/tests/lib.sh'; lq_sr_type"
assert_eq "plugin" "$LQ_XSS_ROOT/volume/org.xen.xapi.storage.lvqcow" "$(LQ_SR_TYPE=lvqcow lq_plugin)"
# called in a subshell it refuses (its cleanup would be lost)
not bash -c ". '$LQ_TOP/tests/lib.sh'; x=\$(lq_new_device_config)"

note "fileqcow: a new directory each time"
LQ_SR_TYPE=fileqcow lq_new_device_config >/dev/null
d1=$(json_get "$LQ_DEVICE_CONFIG" 'j["path"]')
LQ_SR_TYPE=fileqcow lq_new_device_config >/dev/null
d2=$(json_get "$LQ_DEVICE_CONFIG" 'j["path"]')
[ -d "$d1" ] && [ -d "$d2" ] && [ "$d1" != "$d2" ] || die "directories $d1 $d2"
[ -z "$(ls -A "$d1")" ] || die "$d1 is not empty"

note "python: the same"
out=$(LQ_SR_TYPE=fileqcow PYTHONPATH=$LQ_TESTS/mock python3 -c '
import lqtest, os
c = lqtest.new_device_config()
assert os.path.isdir(c["path"]) and not os.listdir(c["path"]), c
print(lqtest.SR_TYPE, lqtest.PLUGIN)')
assert_eq "python type" "fileqcow $LQ_XSS_ROOT/volume/org.xen.xapi.storage.fileqcow" "$out"

note "lvqcow: a loop device, cleaned up at exit"
(lq_need_dm) || skip "$(lq_need_dm 2>&1 | tail -1)"
cat >lv.sh <<SH
. "$LQ_TOP/tests/lib.sh"
LQ_SR_TYPE=lvqcow lq_new_device_config 96M >/dev/null
dev=\$(json_get "\$LQ_DEVICE_CONFIG" 'j["device"]')
echo "\$dev \$(blockdev --getsize64 "\$dev") \$(losetup -n -O back-file "\$dev")" >seen
lvm pvcreate -q "\$dev" >/dev/null && lvm vgcreate -q lq-srtype "\$dev" >/dev/null
lvm lvcreate -q -an -Zn -L 8M -n lv lq-srtype >/dev/null
SH
bash lv.sh || die "lv.sh failed"
read -r dev size file <seen
assert_eq "loop size" $((96 << 20)) "$size"
[ ! -e "$file" ] || die "$file left behind"
[ -z "$(losetup -n -O back-file "$dev" 2>/dev/null)" ] || die "$dev still attached"
[ -z "$(lvm vgs --noheadings lq-srtype 2>/dev/null)" ] || die "VG lq-srtype left behind"

cat >lv.py <<'PY'
import lqtest, subprocess
c = lqtest.new_device_config("64M")
dev = c["device"]
size = subprocess.check_output(["blockdev", "--getsize64", dev], text=True).strip()
back = subprocess.check_output(["losetup", "-n", "-O", "back-file", dev], text=True).strip()
subprocess.check_call(["lvm", "pvcreate", "-q", dev], stdout=subprocess.DEVNULL)
subprocess.check_call(["lvm", "vgcreate", "-q", "lq-srtype-py", dev], stdout=subprocess.DEVNULL)
open("seen", "w").write("%s %s %s\n" % (dev, size, back))
PY
LQ_SR_TYPE=lvqcow PYTHONPATH=$LQ_TESTS/mock python3 lv.py || die "lv.py failed"
read -r dev size file <seen
assert_eq "python loop size" $((64 << 20)) "$size"
[ ! -e "$file" ] || die "$file left behind (python)"
[ -z "$(losetup -n -O back-file "$dev" 2>/dev/null)" ] || die "$dev still attached (python)"
[ -z "$(lvm vgs --noheadings lq-srtype-py 2>/dev/null)" ] || die "VG lq-srtype-py left behind"
echo ok
