#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Activation counted per host (docs/lvm-store.md): a parent two attached
# volumes share stays active until the second detaches; a call killed
# while it holds an LV leaves a holder that the next release recognises
# as dead, so the LV does not stay active for ever; nothing is active
# once every volume is detached.  Attach and detach activate and let go
# of a chain in one command each and resize the leaf without a report
# (attach grows it before the activation, detach shrinks it after the
# deactivation); an attach whose server
# fails, or that is killed before it starts, gives back the chain and
# the leaf's room (itself, or through the collector's next run or
# SR.attach).  The room lets the guest write the whole disk, also when
# the growth ahead fails.  Also SR.probe on the device.
set -eu
. "$(dirname "$0")/lib-lvqcow.sh"
uri_of() { sed -n 's/.*"uri": *\[ *"\([^"]*\)".*/\1/p'; }
active() { [ "$(lvs --noheadings -o lv_attr "$vg/$1" | tr -d ' ' | cut -c5)" = a ]; }
holders() { ls "/run/lvqcow/lvm/$vg/$1" 2>/dev/null | tr '\n' ' '; }
show() { echo "--- $1"; lvs -o lv_name,lv_size,lv_attr "$vg" | sed 's/^/    /'; }
# count_active [PREFIXES]: how many image LVs (n-, or the given prefixes) are active.
count_active() {
	lvs --noheadings -o lv_name,lv_attr "$vg" |
		awk -v re="^[${1:-n}]-" '$1 ~ re && substr($2,5,1) == "a"' | wc -l
}
sizes() { lvs --noheadings --units b --nosuffix -o lv_name,lv_size "$vg" | sort; }

sr_uuid=5a1e2d3c-4b5a-4987-8654-3210fedcba98
vg=lvqcow-$sr_uuid
call "$vol" SR.create "{\"dbg\":\"t\",\"uuid\":\"$sr_uuid\",\"configuration\":{\"device\":\"$dev\"},\"name\":\"h\",\"description\":\"\"}" >/dev/null
sr=$(call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" | tr -d '"')
probe=$(call "$vol" SR.probe "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}")
echo "$probe" | grep -q "$sr_uuid" || fail "SR.probe does not find the SR: $probe"

a=$(call "$vol" Volume.create "{\"dbg\":\"t\",\"sr\":\"$sr\",\"name\":\"a\",\"description\":\"\",\"size\":67108864,\"sharable\":false}")
akey=$(echo "$a" | field key); auri=$(echo "$a" | uri_of)
s=$(call "$vol" Volume.snapshot "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$akey\"}")
c=$(call "$vol" Volume.clone "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$(echo "$s" | field key)\"}")
curi=$(echo "$c" | uri_of)
show "a volume, its snapshot and a clone of the snapshot (nothing attached)"
n_active=$(count_active)
[ "$n_active" = 0 ] || fail "$n_active images active with nothing attached"

attach() {
	call "$dp" Datapath.open "{\"dbg\":\"t\",\"uri\":\"$1\",\"persistent\":true}" >/dev/null
	call "$dp" Datapath.attach "{\"dbg\":\"t\",\"uri\":\"$1\",\"domain\":\"0\"}" >/dev/null
	call "$dp" Datapath.activate "{\"dbg\":\"t\",\"uri\":\"$1\",\"domain\":\"0\"}" >/dev/null
}
detach() {
	call "$dp" Datapath.deactivate "{\"dbg\":\"t\",\"uri\":\"$1\",\"domain\":\"0\"}" >/dev/null
	call "$dp" Datapath.detach "{\"dbg\":\"t\",\"uri\":\"$1\",\"domain\":\"0\"}" >/dev/null
	call "$dp" Datapath.close "{\"dbg\":\"t\",\"uri\":\"$1\"}" >/dev/null
}
attach "$auri"
attach "$curi"
show "both attached"
shared=""
for lv in $(lvs --noheadings -o lv_name "$vg" | tr -d ' ' | grep '^n-'); do
	h=$(holders "$lv")
	echo "    holders of $lv: $h"
	case $h in *dp-$akey*dp-*|*dp-*dp-$akey*) shared=$lv ;; esac
done
[ -n "$shared" ] || fail "no image is held by both servers"
detach "$auri"
active "$shared" || fail "the shared parent $shared was deactivated while the clone is attached"
echo "after the first detach, $shared stays active (holders: $(holders "$shared"))"
detach "$curi"
active "$shared" && fail "the shared parent $shared stays active after both detached"
show "both detached"

# A call killed while it holds the leaf: its holder is dead, not counted.
if printf '{"dbg":"t","sr":"%s","key":"%s"}' "$sr" "$akey" |
	LVQCOW_FAULT=volume-tree.images-written "$vol/Volume.snapshot" --json >/dev/null 2>&1; then
	fail "the snapshot was not killed"
fi
dead=$(ls /run/lvqcow/lvm/"$vg"/*/ 2>/dev/null | grep -c '^c-' || true)
echo "holders left by the killed call: $dead"
[ "$dead" -ge 1 ] || fail "the killed call left no holder (was anything held?)"
call "$vol" Volume.snapshot "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$akey\"}" >/dev/null
n_active=$(count_active)
show "after a snapshot that was killed and one that finished"
# The volume's leaf was released by the finished call despite the dead
# holder; the killed call's own new image (an orphan) is held by the
# dead call only, until SR.attach sweeps it and prunes dead holders.
[ "$n_active" -le 1 ] || fail "$n_active images stay active: a dead holder was counted"
call "$vol" SR.detach "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" >/dev/null
show "after SR.detach and SR.attach (the orphan in quarantine)"
n_active=$(count_active nq)
[ "$n_active" = 0 ] || fail "$n_active images stay active after the attach pruned dead holders"
[ -z "$(ls /run/lvqcow/lvm/$vg/*/ 2>/dev/null | grep '^c-')" ] || fail "dead holders left"

# The volume's chain is now a leaf and at least two parents.  Its
# attach activates the whole chain in one command.  Its detach reads
# the leaf's image end while the server's hold keeps it active (no
# second activation), lets go of the whole chain, the call's own hold on
# the leaf included, in one command, then deflates the leaf.
# lvm_cmds LOG KIND: the number of "lvchange KIND" commands in LOG, and
# how many LVs the longest of them names.
lvm_cmds() {
	echo "--- the LVM commands of $(sed -n '1s/\[.*//p' "$1")" >&2
	grep 'debug: lvm: lv' "$1" | sed "s/.*debug: lvm: /    /; s/--config '[^']*' //; s/--config [^ ]* //" >&2
	grep "debug: lvm: lvchange .* $2 " "$1" | awk -v vg="$vg" '{
		k = 0
		for (i = 1; i <= NF; i++) if (index($i, vg "/") == 1) k++
		n++; if (k > most) most = k
	} END {print n + 0, most + 0}'
}
call "$dp" Datapath.open "{\"dbg\":\"t\",\"uri\":\"$auri\",\"persistent\":true}" >/dev/null
printf '{"dbg":"t","uri":"%s","domain":"0"}' "$auri" |
	LVQCOW_DEBUG=1 "$dp/Datapath.attach" --json >/dev/null 2>/tmp/lq-attach.log ||
	fail "Datapath.attach: $(tail -n 3 /tmp/lq-attach.log)"
set -- $(lvm_cmds /tmp/lq-attach.log -aey)
[ "$1" = 1 ] && [ "$2" -ge 3 ] ||
	fail "Datapath.attach: $1 activations, the longest of $2 LVs (one for the chain expected)"
call "$dp" Datapath.activate "{\"dbg\":\"t\",\"uri\":\"$auri\",\"domain\":\"0\"}" >/dev/null
call "$dp" Datapath.deactivate "{\"dbg\":\"t\",\"uri\":\"$auri\",\"domain\":\"0\"}" >/dev/null
printf '{"dbg":"t","uri":"%s","domain":"0"}' "$auri" |
	LVQCOW_DEBUG=1 "$dp/Datapath.detach" --json >/dev/null 2>/tmp/lq-detach.log ||
	fail "Datapath.detach: $(tail -n 3 /tmp/lq-detach.log)"
call "$dp" Datapath.close "{\"dbg\":\"t\",\"uri\":\"$auri\"}" >/dev/null
set -- $(lvm_cmds /tmp/lq-detach.log -aey)
[ "$1" = 0 ] || fail "Datapath.detach activated an LV"
set -- $(lvm_cmds /tmp/lq-detach.log -an)
[ "$1" = 1 ] && [ "$2" -ge 3 ] ||
	fail "Datapath.detach: $1 deactivations, the longest of $2 LVs (one for the chain expected)"
# The attach grows the leaf before it activates the chain (a metadata
# change only), to a bound known from the volume's size; the image,
# read once active, needs no more.  The detach deflates the leaf after
# it let go of the chain, its size taken from the device before.  No
# report runs.
lvm_verbs() { grep -o 'debug: lvm: lv[a-z]*' "$1" | sed 's/.* //' | tr '\n' ' '; }
[ "$(lvm_verbs /tmp/lq-attach.log)" = "lvextend lvchange " ] ||
	fail "Datapath.attach ran $(lvm_verbs /tmp/lq-attach.log)(lvextend, then lvchange expected)"
[ "$(lvm_verbs /tmp/lq-detach.log)" = "lvchange lvresize " ] ||
	fail "Datapath.detach ran $(lvm_verbs /tmp/lq-detach.log)(lvchange, then lvresize expected)"
for log in /tmp/lq-attach.log /tmp/lq-detach.log; do
	! grep -q 'debug: lvm: lvs ' "$log" || fail "a report ran in $log: $(grep 'lvm: lvs ' "$log")"
done

# An attach whose server does not start gives back what it took: the
# chain is no longer active, the leaf is deflated again and no holder
# of the volume is left.  The start is made to fail by a launcher that
# refuses every unit.
mkdir -p /tmp/no-systemd
printf '#!/bin/sh\necho "systemd-run: refused" >&2\nexit 1\n' >/tmp/no-systemd/systemd-run
chmod +x /tmp/no-systemd/systemd-run
sizes_before=$(sizes)
call "$dp" Datapath.open "{\"dbg\":\"t\",\"uri\":\"$auri\",\"persistent\":true}" >/dev/null
if out=$(printf '{"dbg":"t","uri":"%s","domain":"0"}' "$auri" |
	PATH=/tmp/no-systemd:$PATH LVQCOW_SYSTEMD_PROBE=/ "$dp/Datapath.attach" --json 2>/dev/null); then
	fail "Datapath.attach succeeded without a server: $out"
fi
echo "the failed attach answered: $out"
show "after an attach whose server did not start"
n_active=$(count_active)
[ "$n_active" = 0 ] || fail "$n_active images stay active after the failed attach"
[ -z "$(ls /run/lvqcow/lvm/$vg/*/ 2>/dev/null | grep "^dp-$akey")" ] ||
	fail "the failed attach left the volume's holder"
sizes_after=$(sizes)
[ "$sizes_after" = "$sizes_before" ] ||
	fail "the failed attach changed LV sizes: before $sizes_before after $sizes_after"
attach "$auri"
detach "$auri"
n_active=$(count_active)
[ "$n_active" = 0 ] || fail "$n_active images stay active after attach and detach"

# A call killed inside Datapath.attach, after it held the chain and
# inflated the leaf but before the server started, or after it grew the
# leaf but before the activation, leaves the volume's dp- holder with
# no server behind it.  The collector's next run (here gc --once), and
# SR.attach, let go of it: nothing active, the leaf deflated, no holder
# left.
# killed_attach [POINT ACTIVE]: killed at POINT, with ACTIVE images
# active (at least).
killed_attach() {
	point=${1:-datapath-attach.chain-held} want=${2:-3}
	call "$dp" Datapath.open "{\"dbg\":\"t\",\"uri\":\"$auri\",\"persistent\":true}" >/dev/null
	if printf '{"dbg":"t","uri":"%s","domain":"0"}' "$auri" |
		LVQCOW_FAULT=$point "$dp/Datapath.attach" --json >/dev/null 2>&1; then
		fail "the attach was not killed at $point"
	fi
	[ "$(count_active)" -ge "$want" ] || fail "the killed attach held no chain (was $point reached?)"
	[ -n "$(ls /run/lvqcow/lvm/$vg/*/ 2>/dev/null | grep "^dp-$akey")" ] ||
		fail "the killed attach left no holder"
	[ "$(sizes)" != "$sizes_before" ] || fail "the killed attach did not inflate the leaf"
	show "after an attach killed before its server started"
}
let_go_checked() {
	show "after $1"
	[ "$(count_active)" = 0 ] || fail "$(count_active) images stay active after $1"
	[ -z "$(ls /run/lvqcow/lvm/$vg/*/ 2>/dev/null | grep "^dp-$akey")" ] ||
		fail "the killed attach's holder survives $1"
	[ "$(sizes)" = "$sizes_before" ] ||
		fail "$1 did not give back the leaf's room: before $sizes_before after $(sizes)"
}
# A collector still running from an earlier snapshot would prune the
# holder before the checks of killed_attach: wait for it first.
lvqcow gc --type lvqcow --once "$sr" >/dev/null || fail "gc --once"
sizes_before=$(sizes)
killed_attach
lvqcow gc --type lvqcow --once "$sr" >/dev/null || fail "gc --once"
let_go_checked "the collector's run"
killed_attach
call "$vol" SR.detach "{\"dbg\":\"t\",\"sr\":\"$sr\"}" >/dev/null
call "$vol" SR.attach "{\"dbg\":\"t\",\"configuration\":{\"device\":\"$dev\"}}" >/dev/null
let_go_checked "SR.detach and SR.attach"
killed_attach store-hold.leaf-grown 0
lvqcow gc --type lvqcow --once "$sr" >/dev/null || fail "gc --once"
let_go_checked "the collector's run after an attach killed before its activation"
attach "$auri"
[ "$(count_active)" -ge 3 ] || fail "the attach after the prune holds no chain"
detach "$auri"
[ "$(count_active)" = 0 ] || fail "$(count_active) images stay active after the last detach"

# The room is enough for every cluster of the disk: the whole 64 MiB is
# written and read back through the server, with the leaf grown ahead
# and, when that growth fails, with the leaf grown once active.
# fill_disk [ENV]: attach (with ENV), write and check all of it, detach.
fill_disk() {
	call "$dp" Datapath.open "{\"dbg\":\"t\",\"uri\":\"$auri\",\"persistent\":true}" >/dev/null
	out=$(printf '{"dbg":"t","uri":"%s","domain":"0"}' "$auri" |
		env LVQCOW_DEBUG=1 "$@" "$dp/Datapath.attach" --json 2>/tmp/lq-fill.log) ||
		fail "Datapath.attach $*: $out $(tail -n 3 /tmp/lq-fill.log)"
	nbd=$(echo "$out" | sed -n 's/.*"uri": *"\(nbd[^"]*\)".*/\1/p' | sed 's/\\//g')
	[ -n "$nbd" ] || fail "Datapath.attach gave no nbd uri: $out"
	call "$dp" Datapath.activate "{\"dbg\":\"t\",\"uri\":\"$auri\",\"domain\":\"0\"}" >/dev/null
	pat=$((pat + 1))
	qemu-io -f raw -c "write -P $pat 0 64M" "$nbd" >/tmp/lq-qio.log 2>&1 ||
		fail "writing the whole disk ($*): $(cat /tmp/lq-qio.log)"
	! grep -qi "error\|failed" /tmp/lq-qio.log || fail "writing the whole disk ($*): $(cat /tmp/lq-qio.log)"
	qemu-io -f raw -c "read -P $pat 0 64M" "$nbd" >/tmp/lq-qio.log 2>&1 ||
		fail "reading the whole disk ($*): $(cat /tmp/lq-qio.log)"
	! grep -qi "verification failed\|error" /tmp/lq-qio.log || fail "the whole disk read back wrong ($*)"
	detach "$auri"
}
# Each fill starts from an empty leaf (the second after a snapshot).
pat=80
fill_disk LVQCOW_FAULT_ERROR=store-hold.leaf-grow
! grep -q 'debug: lvm: lvextend ' /tmp/lq-fill.log || fail "the failed growth ran lvextend"
grep -q 'debug: lvm: lvresize ' /tmp/lq-fill.log || fail "the active leaf was not grown"
call "$vol" Volume.snapshot "{\"dbg\":\"t\",\"sr\":\"$sr\",\"key\":\"$akey\"}" >/dev/null
fill_disk
grep -q 'debug: lvm: lvextend ' /tmp/lq-fill.log || fail "the leaf was not grown ahead"
! grep -q 'debug: lvm: lvresize ' /tmp/lq-fill.log || fail "the bound was short for an empty leaf"
n_active=$(count_active)
[ "$n_active" = 0 ] || fail "$n_active images stay active after the whole disk was written" 
n_active=$(count_active)
[ "$n_active" = 0 ] || fail "$n_active images stay active after the detach"
