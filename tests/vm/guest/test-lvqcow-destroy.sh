#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Volume.destroy on lvqcow leaves its LVs to the collector it starts:
# the call runs no LVM command; the collector removes every pending LV
# in one lvremove; a destroy or a collector killed at any point leaves
# records the next run finishes; a Volume.create short of space first
# removes what destroys left pending; and LVs activated behind the
# plugin's back are removed, unless open.
set -eu
. "$(dirname "$0")/lib-lvqcow.sh"
sr_uuid=5e1f2d3c-4b5a-4987-8654-3210fedcba98
vg=lvqcow-$sr_uuid
mib=1048576
call "$vol" SR.create "{\"dbg\":\"t\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"d\",\"description\":\"\"}" >/dev/null
sr=$(call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" | tr -d '"')
images() { lvs --noheadings -o lv_name "$vg" | tr -d ' ' | grep '^n-' | sort || true; }
journal() { lvqcow gc --type lvqcow --status --json "$sr" | sed -n 's/.*"journal": *\([0-9]*\).*/\1/p'; }
create() { call "$vol" Volume.create "{\"dbg\":\"t\",\"sr\":\"$sr\",\"name\":\"v\",\"description\":\"\",\"size\":$1,\"sharable\":false}" | field key; }
destroy() { # KEY [FAULT]
	if [ -n "${2:-}" ]; then
		printf '{"dbg":"t","sr":"%s","key":"%s"}' "$sr" "$1" |
			LVQCOW_FAULT=$2 "$vol/Volume.destroy" --json >/dev/null 2>&1 && fail "destroy not killed at $2"
		return 0
	fi
	printf '{"dbg":"t","sr":"%s","key":"%s"}' "$sr" "$1" |
		LVQCOW_DEBUG=1 "$vol/Volume.destroy" --json >/dev/null 2>/tmp/lq-destroy.log ||
		fail "Volume.destroy: $(tail -n 3 /tmp/lq-destroy.log)"
}
# The collector a destroy starts: its LVs and records gone within 60 s.
gc_done() {
	i=0
	until [ -z "$(images)" ] && [ "$(journal)" = 0 ]; do
		i=$((i + 1)); [ $i -lt 120 ] || fail "after 60 s: LVs $(images), $(journal) records"
		sleep 0.5
	done
}

# 1. The call itself: no LVM command; the collector it starts removes the LV.
k=$(create $mib)
before=$(images)
destroy "$k"
! grep -q 'debug: lvm: ' /tmp/lq-destroy.log || fail "Volume.destroy ran $(grep 'debug: lvm: ' /tmp/lq-destroy.log)"
gc_done
echo "ok: destroy ran no LVM command; the collector removed $before"

# 2. Three destroys killed after their commit: three records, three
#    LVs; one collector run removes them in one lvremove.
k1=$(create $mib); k2=$(create $mib); k3=$(create $mib)
for k in $k1 $k2 $k3; do destroy "$k" volume-destroy.committed; done
[ "$(images | wc -l)" = 3 ] || fail "killed destroys: LVs $(images)"
[ "$(journal)" = 3 ] || fail "killed destroys: $(journal) journal records, 3 expected"
LVQCOW_DEBUG=1 lvqcow gc --type lvqcow --once "$sr" 2>/tmp/lq-gc.log || fail "gc --once: $(tail -n 3 /tmp/lq-gc.log)"
n=$(grep -c 'debug: lvm: lvremove ' /tmp/lq-gc.log || true)
[ "$n" = 1 ] || fail "the collector ran $n lvremove commands: $(cat /tmp/lq-gc.log)"
[ "$(grep 'debug: lvm: lvremove ' /tmp/lq-gc.log | grep -o "$vg/n-" | wc -l)" = 3 ] ||
	fail "the lvremove did not name the three LVs"
[ -z "$(images)" ] && [ "$(journal)" = 0 ] || fail "after gc: LVs $(images), $(journal) records"
echo "ok: three killed destroys finished by one lvremove"

# 3. A collector killed after the lvremove, before its commit: the
#    records stay, the next run drops them (the LVs are already gone).
k1=$(create $mib); k2=$(create $mib)
for k in $k1 $k2; do destroy "$k" volume-destroy.committed; done
LVQCOW_FAULT=removal.images-removed lvqcow gc --type lvqcow --once "$sr" >/dev/null 2>&1 &&
	fail "gc not killed at removal.images-removed"
[ -z "$(images)" ] || fail "killed collector: LVs $(images) not removed"
[ "$(journal)" = 2 ] || fail "killed collector: $(journal) records, 2 expected"
lvqcow gc --type lvqcow --once "$sr" >/dev/null 2>&1 || fail "gc --once after a killed one"
[ "$(journal)" = 0 ] || fail "after a killed collector: $(journal) records left"
# SR.attach replays too.
k1=$(create $mib)
destroy "$k1" volume-destroy.committed
call "$vol" SR.detach "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" >/dev/null
[ -z "$(images)" ] && [ "$(journal)" = 0 ] || fail "after SR.attach: LVs $(images), $(journal) records"
echo "ok: killed collector and SR.attach finish the records"

# 4. Short of space: a create first removes what destroys left pending.
#    A foreign LV takes every free extent but the one k1's LV holds.
k1=$(create $mib)
destroy "$k1" volume-destroy.committed
lvcreate -q -an -Zn -Wn -l 100%FREE -n filler "$vg" >/dev/null 2>&1 || fail "lvcreate filler"
if out=$(printf '{"dbg":"t","sr":"%s","name":"x","description":"","size":%d,"sharable":false}' "$sr" $mib |
	LVQCOW_GC_AUTO=0 "$vol/Volume.create" --json); then
	k2=$(echo "$out" | field key)
else
	fail "Volume.create with a destroyed LV pending: $out"
fi
[ "$(images | wc -l)" = 1 ] || fail "short of space: LVs $(images)"
out=$(printf '{"dbg":"t","sr":"%s","name":"x","description":"","size":%d,"sharable":false}' "$sr" $mib |
	LVQCOW_GC_AUTO=0 "$vol/Volume.create" --json) && fail "a create in a full VG succeeded: $out"
echo "$out" | grep -q SR_BACKEND_FAILURE_44 || echo "$out" | grep -qi 'space' ||
	fail "a full VG: not a space error: $out"
lvremove -q -f "$vg/filler" >/dev/null 2>&1 || fail "lvremove filler"
destroy "$k2"
gc_done
echo "ok: a create short of space removed the pending LV first"

# 5. Behind the plugin's back: LVs a vgchange -ay activated are removed
#    all the same (no activation can come between a deactivation and
#    the lvremove); one that is open stays, with its record, until a
#    run after it is closed.
k1=$(create $mib); k2=$(create $mib)
for k in $k1 $k2; do destroy "$k" volume-destroy.committed; done
vgchange -q -ay "$vg" >/dev/null 2>&1 || fail "vgchange -ay"
busy=$(images | tail -n 1)
exec 3<"/dev/$vg/$busy"
lvqcow gc --type lvqcow --once "$sr" >/tmp/lq-gc.log 2>&1 || fail "gc with $busy open: $(tail -n 3 /tmp/lq-gc.log)"
grep -q "warning: .*$busy" /tmp/lq-gc.log || fail "no warning for $busy: $(cat /tmp/lq-gc.log)"
[ "$(images)" = "$busy" ] || fail "with $busy open: LVs $(images); $(cat /tmp/lq-gc.log)"
[ "$(journal)" -ge 1 ] || fail "with $busy open: no record kept: $(lvqcow gc --type lvqcow --status --json "$sr"); $(cat /tmp/lq-gc.log)"
exec 3<&-
lvqcow gc --type lvqcow --once "$sr" >/tmp/lq-gc.log 2>&1 || fail "gc after the close: $(tail -n 3 /tmp/lq-gc.log)"
[ -z "$(images)" ] && [ "$(journal)" = 0 ] || fail "after the close: LVs $(images), $(journal) records"
echo "ok: active LVs removed, an open one kept until it was closed"

# 6. The same while the whole VG is activated again and again behind the
#    plugin's back: every removal still succeeds.  (A stress, not a
#    proof: with a deactivation before a plain lvremove, as before, the
#    six rounds passed as well; the window is narrow.)
( while :; do vgchange -q -ay "$vg" >/dev/null 2>&1; done ) &
loop=$!
for i in 1 2 3 4 5 6; do
	k1=$(create $mib)
	destroy "$k1" volume-destroy.committed
	lvqcow gc --type lvqcow --once "$sr" >/tmp/lq-gc.log 2>&1 || fail "gc, round $i: $(tail -n 3 /tmp/lq-gc.log)"
	[ -z "$(images)" ] && [ "$(journal)" = 0 ] ||
		fail "round $i under vgchange -ay: LVs $(images), $(journal) records; $(cat /tmp/lq-gc.log)"
done
kill $loop
wait $loop 2>/dev/null || true
echo "ok: six removals while a loop of vgchange -ay ran"
call "$vol" SR.destroy "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
