#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The LVM layer (src/lvm, through "lvqcow lvm") on a loop device, with
# activation disabled (this kernel has no device-mapper): create a PV and
# a VG with a large metadata area, LVs, resize, rename, tag, list and
# remove them, and check each result against what the lvm binary reports.
# Refused names change nothing (the VG's metadata sequence number stays),
# nor does pvcreate on a device holding a signature;
# each failure class gives its xapi error; stdout holds exactly the JSON
# result whether it is a file or a pipe; an activation that LVM reports
# but did not happen is an error.  Loop devices and the VG are removed
# whatever happens.
source "$LQ_TOP/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for loop devices"
command -v lvm >/dev/null || skip "no lvm binary (apt-get install lvm2)"
truncate -s 4G pv.img
truncate -s 64M small.img
LOOP=$(losetup -f --show pv.img 2>/dev/null) || skip "losetup impossible here"
at_exit losetup -d "$LOOP"
SMALL=$(losetup -f --show small.img 2>/dev/null) || skip "losetup impossible here"
at_exit losetup -d "$SMALL"
truncate -s 16M swap.img
mkswap swap.img >/dev/null 2>&1 || die "mkswap"
SWAP=$(losetup -f --show swap.img 2>/dev/null) || skip "losetup impossible here"
at_exit losetup -d "$SWAP"

lvm_confine "$LOOP" "$SMALL" "$SWAP"
VG=lvqcow-t$$
VG2=lvqcow-s$$
cleanup_vg() {
	lvm vgremove -ff "$1" >/dev/null 2>&1 || true
	lvm pvremove -ff -y "$2" >/dev/null 2>&1 || true
}
at_exit cleanup_vg "$VG" "$LOOP"
at_exit cleanup_vg "$VG2" "$SMALL"

# ok ARGS...: lvqcow lvm must succeed; its stdout is kept in out.json.
ok() { lq lvm "$@" >out.json 2>err.txt || { cat out.json err.txt >&2; die "lvqcow lvm $* failed"; }; }
# refused ARGS...: lvqcow lvm must fail by itself (not by a signal, such
# as a sanitizer's abort), its error JSON in out.json.
refused() {
	local rc=0
	lq lvm "$@" >out.json 2>err.txt || rc=$?
	[ $rc -ne 0 ] || die "expected failure: lvqcow lvm $*"
	[ $rc -lt 128 ] || die "killed by signal $((rc - 128)): lvqcow lvm $*: $(tail -n 20 err.txt)"
}
# fails CODE PARAM0 ARGS...: lvqcow lvm must fail with that error.
fails() {
	local code=$1 p0=$2
	shift 2
	refused "$@"
	assert_eq "error of lvm $*" "$code $p0" "$(jq -r '"\(.code) \(.params[0])"' out.json)"
}
seqno() { lvm vgs --noheadings -o vg_seqno "$1" 2>/dev/null | tr -d ' '; }
# lvm_lvs VG: "name size tags" lines from the lvm binary, sorted.
lvm_lvs() {
	lvm lvs --noheadings --units b --nosuffix --separator ' ' -o lv_name,lv_size,lv_tags "$1" \
		2>/dev/null | sed 's/^ *//' | sort
}
our_lvs() { lq lvm lvs "$1" | jq -r '.[] | "\(.name) \(.size) \(.tags)"' | sort; }

note "version: liblvm2cmd loads and answers"
ok version
jq -e 'test("^LVM version: +2\\.")' out.json >/dev/null || die "version: $(cat out.json)"

note "PV with a 64 MiB metadata area, VG"
ok pv-create "$LOOP" 64
ok vg-create "$VG" "$LOOP" lvqcow
ok vgs "$VG"
assert_eq "vg name" "$VG" "$(jq -r .name out.json)"
assert_eq "vg tags" lvqcow "$(jq -r .tags out.json)"
assert_eq "autoactivation at boot" "" \
	"$(lvm vgs --noheadings -o vg_autoactivation "$VG" 2>/dev/null | tr -d ' ')"
read -r size free ext mda <<<"$(lvm vgs --noheadings --units b --nosuffix \
	-o vg_size,vg_free,vg_extent_size,vg_mda_size "$VG" 2>/dev/null)"
assert_eq "vg size" "$size" "$(jq -r .size out.json)"
assert_eq "vg free" "$free" "$(jq -r .free out.json)"
assert_eq "extent size" "$ext" "$(jq -r .extent_size out.json)"
assert_eq "metadata area" "$mda" "$(jq -r .mda_size out.json)"
[ "$mda" -ge $((64 << 20)) ] || die "metadata area $mda is smaller than 64 MiB"

note "LVs: sizes round up to whole extents, tags kept"
ok lv-create "$VG" n-1 1 lq-node
ok lv-create "$VG" n-2 5000000
ok lv-create "$VG" n-3 $((100 << 20)) lq-node
assert_eq "lvs" "$(lvm_lvs "$VG")" "$(our_lvs "$VG")"
ok lv "$VG" n-2
assert_eq "n-2 size" $((8 << 20)) "$(jq -r .size out.json)"
assert_eq "n-1 size" "$ext" "$(lq lvm lv "$VG" n-1 | jq -r .size)"
assert_eq "lv_count" 3 "$(lq lvm vgs "$VG" | jq -r .lv_count)"

note "no metadata archive, whatever lvm.conf says; the backup file as it says"
mkdir -p etc-archive ar bk
sed '/^backup/d' etc/lvm.conf >etc-archive/lvm.conf
echo "backup { backup = 1 archive = 1 backup_dir = \"$PWD/bk\" archive_dir = \"$PWD/ar\" }" \
	>>etc-archive/lvm.conf
# The configuration archives: the lvm binary leaves a copy of the metadata.
LVM_SYSTEM_DIR=$PWD/etc-archive lvm lvcreate -an -Zn -n n-arch -L 4m "$VG" >/dev/null 2>&1 ||
	die "lvcreate with archiving"
[ -n "$(ls ar)" ] || die "the lvm binary archived nothing: the check below could not fail"
rm -f ar/* bk/*
export LVM_SYSTEM_DIR=$PWD/etc-archive
ok lv-remove "$VG" n-arch
ok lv-create "$VG" n-arch 1
ok lv-remove "$VG" n-arch
export LVM_SYSTEM_DIR=$PWD/etc
assert_eq "metadata archives" "" "$(ls ar)"
[ -s "bk/$VG" ] || die "no backup file, though lvm.conf asks for one"

note "stdout holds exactly the JSON result, as a file and as a pipe"
lq lvm lvs "$VG" >file.json 2>/dev/null
lq lvm lvs "$VG" 2>/dev/null | cat >pipe.json
for f in file.json pipe.json; do
	assert_eq "$f lines" 1 "$(wc -l <"$f")"
	python3 -c 'import json,sys; v=json.loads(open(sys.argv[1]).read()); assert len(v) == 3' "$f" ||
		die "$f is not the JSON result: $(cat "$f")"
done

note "resize: grow, the same size (no command), shrink"
ok lv-resize "$VG" n-2 $((20 << 20))
assert_eq "grown" $((20 << 20)) "$(lq lvm lv "$VG" n-2 | jq -r .size)"
s0=$(seqno "$VG")
ok lv-resize "$VG" n-2 $((19 << 20))     # rounds up to the same 20 MiB
assert_eq "same size changes nothing" "$s0" "$(seqno "$VG")"
ok lv-resize "$VG" n-2 $((4 << 20))
assert_eq "shrunk" $((4 << 20)) "$(lq lvm lv "$VG" n-2 | jq -r .size)"
assert_eq "lvs after resize" "$(lvm_lvs "$VG")" "$(our_lvs "$VG")"

note "extend: grows, never shrinks; a size the LV has already is no error"
ok lv-extend "$VG" n-2 $((12 << 20))
assert_eq "extended" $((12 << 20)) "$(lq lvm lv "$VG" n-2 | jq -r .size)"
s0=$(seqno "$VG")
ok lv-extend "$VG" n-2 $((12 << 20))
ok lv-extend "$VG" n-2 $((4 << 20))
assert_eq "extend to a smaller size keeps the size" $((12 << 20)) \
	"$(lq lvm lv "$VG" n-2 | jq -r .size)"
assert_eq "extend to no larger size changes nothing" "$s0" "$(seqno "$VG")"
fails SR_BACKEND_FAILURE_44 "There is insufficient space" lv-extend "$VG" n-2 $((1 << 40))
assert_eq "a refused extend keeps the size" $((12 << 20)) "$(lq lvm lv "$VG" n-2 | jq -r .size)"
fails SR_BACKEND_FAILURE Lvm_not_found lv-extend "$VG" n-missing $((8 << 20))
ok lv-resize "$VG" n-2 $((4 << 20))

note "rename and tag"
ok lv-rename "$VG" n-2 n-2b
ok lv-tag "$VG" n-2b lq-renamed
assert_eq "lvs after rename" "$(lvm_lvs "$VG")" "$(our_lvs "$VG")"
lvm_lvs "$VG" | grep -qx "n-2b $((4 << 20)) lq-renamed" || die "rename/tag not seen by lvm"

note "failure classes"
fails SR_BACKEND_FAILURE Lvm_exists lv-create "$VG" n-1 1
fails SR_BACKEND_FAILURE Lvm_not_found lv "$VG" n-9
fails SR_BACKEND_FAILURE Lvm_not_found lv-remove "$VG" n-9
fails SR_BACKEND_FAILURE Lvm_not_found vgs lvqcow-nosuchvg
fails SR_BACKEND_FAILURE_44 "There is insufficient space" lv-create "$VG" big $((1 << 40))
fails SR_BACKEND_FAILURE Lvm_exists lv-rename "$VG" n-1 n-3
fails SR_BACKEND_FAILURE Lvm_device_refused pv-create "$LOOP" 8
fails SR_BACKEND_FAILURE Internal_error activate "$VG" n-1 exclusive
grep -q "activation disabled" out.json || die "activation error: $(cat out.json)"

note "a device holding a signature is refused and left as it was"
sum=$(sha256sum <swap.img)
fails SR_BACKEND_FAILURE Lvm_device_refused pv-create "$SWAP" 8
grep -q "wiping of swap" out.json || die "refusal: $(cat out.json)"
assert_eq "swap device unchanged" "$sum" "$(sha256sum <swap.img)"
[ -z "$(lvm pvs --noheadings "$SWAP" 2>/dev/null)" ] || die "$SWAP became a PV"

note "names the plugin never generates are refused before any command"
s0=$(seqno "$VG")
for bad in "a b" "#x" "snapshot1" "x_tmeta" "-an" "../x" "a'b" 'a"b' "a/b" "$(printf 'a\nb')" \
	"$(head -c 128 /dev/zero | tr '\0' x)"; do
	fails SR_BACKEND_FAILURE Invalid_argument lv-create "$VG" "$bad" 1
	fails SR_BACKEND_FAILURE Invalid_argument lv-remove "$VG" "$bad"
	fails SR_BACKEND_FAILURE Invalid_argument lv-rename "$VG" n-1 "$bad"
	case $bad in snapshot1 | x_tmeta) ;;   # fine as VG names
	*) fails SR_BACKEND_FAILURE Invalid_argument vg-create "$bad" "$LOOP" ;;
	esac
done
for bad in "a b" "#x" "-x" "a&b" "a,b" "a'b" "$(head -c 129 /dev/zero | tr '\0' t)"; do
	fails SR_BACKEND_FAILURE Invalid_argument lv-create "$VG" n-8 1 "$bad"
	fails SR_BACKEND_FAILURE Invalid_argument lv-tag "$VG" n-1 "$bad"
done
for bad in /etc/passwd /dev/../etc/passwd "/dev/loop0 /dev/loop1" "/dev/#x" relative; do
	fails SR_BACKEND_FAILURE Invalid_argument pv-create "$bad" 8
done
assert_eq "VG unchanged by refused commands" "$s0" "$(seqno "$VG")"
assert_eq "lvs unchanged" "$(lvm_lvs "$VG")" "$(our_lvs "$VG")"

note "metadata area full (1 MiB area): a clear error, not a generic one"
ok pv-create "$SMALL" 1
ok vg-create "$VG2" "$SMALL"
# Fill the area with the lvm binary (tags of falling sizes, each until it
# no longer fits), then let the layer add LVs until LVM refuses: that
# refusal must be Lvm_metadata_full.
lvm lvcreate -an -Zn -n fill -L 4m "$VG2" >/dev/null 2>&1 || die "lvcreate fill"
n=0
for len in 60000 6000 600; do
	tag=$(head -c $len /dev/zero | tr '\0' t)
	while lvm lvchange --addtag "$tag$n" "$VG2/fill" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -lt 200 ] || die "the 1 MiB metadata area never filled"
	done
done
# The layer refuses to list an LV whose report line LVM cut at 4095 bytes.
fails SR_BACKEND_FAILURE Internal_error lvs "$VG2"
grep -q "4095" out.json || die "cut report: $(cat out.json)"
full=""
for i in $(seq 1 50); do
	if ! lq lvm lv-create "$VG2" "m-$i-$(head -c 100 /dev/zero | tr '\0' m)" 1 >out.json 2>err.txt; then
		full=$(jq -r '.params[0]' out.json)
		break
	fi
done
assert_eq "metadata full error" Lvm_metadata_full "$full"

note "removal: a VG holding LVs is refused, then everything goes"
refused vg-remove "$VG"
grep -q "still holds 3 LVs" out.json || die "vg-remove refusal: $(cat out.json)"
fails SR_BACKEND_FAILURE Invalid_argument lv-remove "$VG" n-1 always
fails SR_BACKEND_FAILURE Lvm_not_found lv-remove "$VG" n-9 unused
ok lv-remove "$VG" n-1 unused
for lv in n-2b n-3; do ok lv-remove "$VG" "$lv"; done
assert_eq "no LVs left" "" "$(lvm_lvs "$VG")"
ok vg-remove "$VG"
ok pv-remove "$LOOP"
not lvm vgs "$VG" >/dev/null 2>&1
[ -z "$(lvm pvs --noheadings "$LOOP" 2>/dev/null)" ] || die "PV label left on $LOOP"
