#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SR.create and SR.destroy of lvqcow killed (SIGKILL, LVQCOW_FAULT_AT) at
# every fault point they reach.  After a killed create, running it again
# (same SR uuid) finishes the SR, and so does a create with another uuid
# (the half-made VG is taken over).  After a killed destroy, either the
# SR is still whole (attach and destroy again) or it is gone and a new
# SR.create on the device removes what it left.  Either way the SR that
# results works (a volume is created and destroyed in it) and the device
# is empty at the end.
set -eu
. "$(dirname "$0")/lib-lvqcow.sh"
vcall() { call "$vol" "$@"; }
killed_at() { # killed_at N METHOD JSON: 0 if the call was killed
	rc=0
	printf '%s' "$3" | LVQCOW_FAULT_AT=$1 "$vol/$2" --json >/dev/null 2>&1 || rc=$?
	[ $rc = 137 ]
}
points() { printf '%s' "$2" | LVQCOW_FAULT_TRACE=1 "$vol/$1" --json 2>&1 >/dev/null | grep -c "^fault point"; }
uuid_n() { printf '%08x-4b5a-4987-8654-3210fedcba98' "$1"; }
create_json() { echo "{\"dbg\":\"t\",\"uuid\":\"$1\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"c\",\"description\":\"\"}"; }
attach_json="{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}"
works() { # the SR on the device takes a volume, then is destroyed
	sr=$(vcall SR.attach "$attach_json" | tr -d '"')
	key=$(vcall Volume.create "{\"dbg\":\"t\",\"sr\":\"$sr\",\"name\":\"v\",\"description\":\"\",\"size\":4194304,\"sharable\":false}" |
		sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
	vcall Volume.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$key\"}" >/dev/null
	lvqcow gc --type lvqcow --once "$sr" >/dev/null
	vcall SR.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
	[ -z "$(vgs --noheadings -o vg_name 2>/dev/null)" ] || fail "a VG is left: $(vgs)"
}

n=$(points SR.create "$(create_json "$(uuid_n 1)")")
works
echo "SR.create reaches $n fault points"
[ "$n" -ge 3 ] || fail "too few points traced"
i=1
while [ $i -le $((n + 1)) ]; do
	u=$(uuid_n $((100 + i)))
	if killed_at $i SR.create "$(create_json "$u")"; then
		if lvs "lvqcow-$u/sr-meta" >/dev/null 2>&1; then
			echo "create killed at point $i: the SR exists (killed after its commit)"
		else
			# Again with the same uuid, or (every other point) another one.
			[ $((i % 2)) = 0 ] && u=$(uuid_n $((200 + i)))
			vcall SR.create "$(create_json "$u")" >/dev/null
			echo "create killed at point $i: created again ($u)"
		fi
	else
		[ $i -gt "$n" ] || fail "create at point $i was not killed"
	fi
	works
	i=$((i + 1))
done

vcall SR.create "$(create_json "$(uuid_n 2)")" >/dev/null
sr=$(vcall SR.attach "$attach_json" | tr -d '"')
n=$(points SR.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\"}")
echo "SR.destroy reaches $n fault points"
i=1
while [ $i -le $((n + 1)) ]; do
	vcall SR.create "$(create_json "$(uuid_n $((300 + i)))")" >/dev/null
	sr=$(vcall SR.attach "$attach_json" | tr -d '"')
	if killed_at $i SR.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\"}"; then
		if lvs "${sr#/dev/}/sr-meta" >/dev/null 2>&1; then
			echo "destroy killed at point $i: the SR is whole"
			works
		else
			echo "destroy killed at point $i: the SR is gone; a new one takes the device"
			vcall SR.create "$(create_json "$(uuid_n $((400 + i)))")" >/dev/null
			works
		fi
	else
		[ $i -gt "$n" ] || fail "destroy at point $i was not killed"
		[ -z "$(vgs --noheadings -o vg_name 2>/dev/null)" ] || fail "a VG is left"
	fi
	i=$((i + 1))
done
