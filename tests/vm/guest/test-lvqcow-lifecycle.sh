#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The lvqcow SR on a real device-mapper: every lifecycle call through the
# installed plugin executables, the LVs checked after each step (room
# fitted: a detached leaf at its image end, an attached one inflated, a
# parent at its image end), data written and read back through the NBD
# datapath across a snapshot, a coalesce and a clone, and nothing left
# on the device at the end.
set -eu
. "$(dirname "$0")/lib-lvqcow.sh"
must_fail() { # must_fail METHOD JSON PATTERN
	if out=$(printf '%s' "$2" | "$vol/$1" --json); then fail "$1 succeeded: $out"; fi
	echo "$out" | grep -q "$3" || fail "$1: error without '$3': $out"
	echo "refused as expected: $1: $(echo "$out" | cut -c1-160)"
}
lvsize() { lvs --noheadings --units b --nosuffix -o lv_size "$vg/$1" | tr -d ' '; }
show() { echo "--- $1"; lvs --units m -o lv_name,lv_size,lv_attr "$vg" | sed 's/^/    /'; }

sr_uuid=0f1e2d3c-4b5a-4987-8654-3210fedcba98
vg=lvqcow-$sr_uuid
call "$vol" SR.create "{\"dbg\":\"t\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"lv sr\",\"description\":\"d\"}" >/dev/null
show "SR.create"
lvs "$vg/sr-meta" >/dev/null || fail "no metadata LV"
must_fail SR.create "{\"dbg\":\"t\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"n\",\"description\":\"d\"}" "already holds"
must_fail SR.create "{\"dbg\":\"t\",\"uuid\":\"1f1e2d3c-4b5a-4987-8654-3210fedcba98\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"n\",\"description\":\"d\"}" "holds lvqcow SR"
must_fail SR.create "{\"dbg\":\"t\",\"uuid\":\"1f1e2d3c-4b5a-4987-8654-3210fedcba98\",\"configuration\":{\"device\":\"/dev/null\"},\"name\":\"n\",\"description\":\"d\"}" "not a block device"
sr=$(call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" | tr -d '"')
[ "$sr" = "/dev/$vg" ] || fail "SR.attach gave '$sr'"
call "$vol" SR.stat "{\"dbg\":\"t\",\"sr\":\"$sr\"}" | grep -q '"total_space": *[1-9]' || fail "SR.stat"

mib=1048576
v=$(call "$vol" Volume.create "{\"dbg\":\"t\",\"sr\":\"$sr\",\"name\":\"a\",\"description\":\"\",\"size\":$((256 * mib)),\"sharable\":false}")
key=$(echo "$v" | field key)
uri=$(echo "$v" | sed -n 's/.*"uri": *\[ *"\([^"]*\)".*/\1/p')
[ -n "$key" ] && [ -n "$uri" ] || fail "Volume.create: $v"
show "Volume.create 256 MiB"
leaf=$(lvs --noheadings -o lv_name "$vg" | tr -d ' ' | grep '^n-')
[ "$(lvsize "$leaf")" -le $((4 * mib)) ] || fail "a new volume's LV is not at its image end"

attach() {
	call "$dp" Datapath.open "{\"dbg\":\"t\",\"uri\":\"$uri\",\"persistent\":true}" >/dev/null
	a=$(call "$dp" Datapath.attach "{\"dbg\":\"t\",\"uri\":\"$uri\",\"domain\":\"0\"}")
	nbd=$(echo "$a" | sed -n 's/.*"uri": *"\(nbd[^"]*\)".*/\1/p' | sed 's/\\//g')
	[ -n "$nbd" ] || fail "Datapath.attach gave no nbd uri: $a"
	call "$dp" Datapath.activate "{\"dbg\":\"t\",\"uri\":\"$uri\",\"domain\":\"0\"}" >/dev/null
}
detach() {
	call "$dp" Datapath.deactivate "{\"dbg\":\"t\",\"uri\":\"$uri\",\"domain\":\"0\"}" >/dev/null
	call "$dp" Datapath.detach "{\"dbg\":\"t\",\"uri\":\"$uri\",\"domain\":\"0\"}" >/dev/null
	call "$dp" Datapath.close "{\"dbg\":\"t\",\"uri\":\"$uri\"}" >/dev/null
}
qio() { qemu-io -f raw -c "$1" "$nbd" | grep -v "^wrote\|^read\|ops/sec" || true; }
check_pattern() { # OFFSET LEN BYTE
	qemu-io -f raw -c "read -P $3 $1 $2" "$nbd" | grep -q "Pattern verification failed" &&
		fail "pattern $3 at $1 not read back" || true
}

attach
show "Datapath.attach (the leaf inflated)"
[ "$(lvsize "$leaf")" -ge $((256 * mib)) ] || fail "the attached leaf was not inflated"
qio "write -P 0xab 0 8M"
check_pattern 0 8M 0xab

snap=$(call "$vol" Volume.snapshot "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$key\"}" | field key)
show "Volume.snapshot while attached (old leaf at its image end, new leaf inflated)"
[ "$(lvsize "$leaf")" -lt $((16 * mib)) ] || fail "the snapshotted leaf was not deflated"
qio "write -P 0xcd 4M 4M"
check_pattern 0 4M 0xab
check_pattern 4M 4M 0xcd

call "$vol" Volume.resize "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$key\",\"new_size\":$((512 * mib))}" >/dev/null
show "Volume.resize to 512 MiB while attached"
[ "$(lvsize "$(lvs --noheadings -o lv_name,lv_size --units b --nosuffix "$vg" |
	awk '$1 ~ /^n-/ && $2 > 400000000 {print $1}')")" -ge $((512 * mib)) ] ||
	fail "the attached leaf was not inflated to the new size"
qio "write -P 0xef 500M 1M"

# The snapshot goes; the collector streams the parent into the attached
# leaf through its server (the live coalesce), then switches.
call "$vol" Volume.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$snap\"}" >/dev/null
lvqcow gc --type lvqcow --once "$sr"
show "Volume.destroy of the snapshot, gc --once while attached (live coalesce)"
[ "$(lvs --noheadings -o lv_name "$vg" | grep -c ' n-')" = 1 ] || fail "the chain was not coalesced"
check_pattern 0 4M 0xab
check_pattern 4M 4M 0xcd
check_pattern 500M 1M 0xef
detach
show "Datapath.detach (leaf at its image end)"
[ "$(lvsize "$(lvs --noheadings -o lv_name "$vg" | tr -d ' ' | grep '^n-')")" -lt $((16 * mib)) ] ||
	fail "the detached leaf was not deflated"

clone=$(call "$vol" Volume.clone "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$key\"}" | field key)
show "Volume.clone"
attach
check_pattern 0 4M 0xab
check_pattern 4M 4M 0xcd
check_pattern 500M 1M 0xef
detach
call "$vol" SR.ls "{\"dbg\":\"t\",\"sr\":\"$sr\"}" | grep -q "$clone" || fail "SR.ls misses the clone"

must_fail SR.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\"}" "still has"
call "$vol" Volume.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$clone\"}" >/dev/null
call "$vol" Volume.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$key\"}" >/dev/null
lvqcow gc --once "$sr"  # the type found from the SR string
show "every volume destroyed, gc --once"
call "$vol" SR.detach "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" >/dev/null
call "$vol" SR.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
if vgs "$vg" >/dev/null 2>&1; then fail "the VG survived SR.destroy"; fi
if pvs "$dev" >/dev/null 2>&1; then fail "the PV survived SR.destroy"; fi
echo "SR.destroy left nothing on $dev"
