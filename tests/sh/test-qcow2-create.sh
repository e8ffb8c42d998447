#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Images the engine creates pass qemu-img check and read as qemu-img
# info expects, across the option grid; header edits (hidden flag, rebase,
# resize) keep them valid, and the hidden flag survives qemu's own
# header rewrite.
source "$LQ_TOP/tests/lib.sh"

info() { qemu-img info --output=json "$1"; }
field() { info "$1" | jq -r "$2"; }

note "option grid"
for compat in 0.10 1.1; do
	for cs in 512 4096 65536 2097152; do
		for rb in 1 16 64; do
			[ $compat = 0.10 ] && [ $rb != 16 ] && continue
			for size in 0 1000001 10G; do
				img=g-$compat-$cs-$rb-$size.qcow2
				lq img create --compat $compat --cluster-size $cs --refcount-bits $rb "$img" $size
				qcheck "$img"
				want=$(( $(numfmt --from=iec $size) ))
				want=$(( (want + 511) / 512 * 512 ))
				assert_eq "$img" "$want $cs $compat $rb" "$(info "$img" | jq -r \
					'"\(.["virtual-size"]) \(.["cluster-size"]) \(.["format-specific"].data.compat) \(.["format-specific"].data["refcount-bits"])"')"
			done
		done
	done
done

note "backing file and format"
qemu-img create -q -f raw base.raw 5M
lq img create -b base.raw -F raw ov.qcow2 5M
qcheck ov.qcow2
assert_eq backing base.raw "$(field ov.qcow2 '.["backing-filename"]')"
assert_eq backing-fmt raw "$(field ov.qcow2 '.["backing-filename-format"]')"
lq img create -b ov.qcow2 -F qcow2 --compat 0.10 --cluster-size 4k ov2.qcow2 7M
qcheck ov2.qcow2
assert_eq depth 3 "$(lq img info --json ov2.qcow2 | jq -r '.["chain-depth"]')"
assert_eq chain 3 "$(qemu-img info --backing-chain --output=json ov2.qcow2 | jq length)"

note "hidden flag, and its survival through qemu-img rebase -u"
lq img create --hidden -b base.raw -F raw h.qcow2 5M
qcheck h.qcow2
assert_eq hidden true "$(lq img info --json h.qcow2 | jq -r .hidden)"
qemu-img rebase -u -b ov.qcow2 -F qcow2 h.qcow2
qcheck h.qcow2
assert_eq "hidden after qemu rebase" true "$(lq img info --json h.qcow2 | jq -r .hidden)"
assert_eq "backing after qemu rebase" ov.qcow2 "$(lq img info --json h.qcow2 | jq -r '.["backing-filename"]')"
lq img set-hidden h.qcow2 0
qcheck h.qcow2
assert_eq "unhidden" false "$(lq img info --json h.qcow2 | jq -r .hidden)"
lq img set-hidden h.qcow2 1
assert_eq "hidden again" true "$(lq img info --json h.qcow2 | jq -r .hidden)"
qemu-io -f qcow2 -c "write -P 7 0 64k" h.qcow2 >/dev/null
assert_eq "hidden after qemu write" true "$(lq img info --json h.qcow2 | jq -r .hidden)"

note "rebase -u through the engine"
lq img rebase -u h.qcow2 base.raw -F raw
qcheck h.qcow2
assert_eq rebased base.raw "$(field h.qcow2 '.["backing-filename"]')"
assert_eq rebased-fmt raw "$(field h.qcow2 '.["backing-filename-format"]')"
assert_eq "hidden kept" true "$(lq img info --json h.qcow2 | jq -r .hidden)"
lq img rebase -u h.qcow2 ""
assert_eq "no backing" null "$(field h.qcow2 '.["backing-filename"]')"
qcheck h.qcow2

note "resize (L1 growth included)"
lq img create --cluster-size 512 r.qcow2 1M
printf 'before' | lq img write r.qcow2 1000
lq img resize r.qcow2 300M
qcheck r.qcow2
assert_eq resized $((300 << 20)) "$(field r.qcow2 '.["virtual-size"]')"
printf 'after' | lq img write r.qcow2 $((299 << 20))
qcheck r.qcow2
same_view r.qcow2
assert_eq "old data" before "$(lq img read r.qcow2 1000 6)"
not lq img resize r.qcow2 1M

note "refused options, nothing created"
not lq img create --cluster-size 1000 bad1.qcow2 1M
not lq img create --refcount-bits 3 bad2.qcow2 1M
not lq img create --compat 0.10 --refcount-bits 1 bad3.qcow2 1M
not lq img create -F vmdk -b base.raw bad4.qcow2 1M
not lq img create --cluster-size 512 bad5.qcow2 17T
for f in bad1 bad2 bad3 bad4 bad5; do [ ! -e $f.qcow2 ] || die "$f.qcow2 exists"; done
not lq img create ov.qcow2 1M
qcheck ov.qcow2

note "refcount table growth (64 clusters per refcount block)"
lq img create --cluster-size 512 --refcount-bits 64 rg.qcow2 16M
head -c 3M /dev/urandom >rg.data
lq img write rg.qcow2 777 <rg.data
printf 'tail' | lq img write rg.qcow2 $((16 * 1024 * 1024 - 4))
qcheck rg.qcow2
[ "$(be_field rg.qcow2 56 4)" -gt 1 ] || die "refcount table did not grow"
cmp_files rg.data <(lq img read rg.qcow2 777 $((3 << 20)))
same_view rg.qcow2
lq img resize rg.qcow2 200M
qcheck rg.qcow2
