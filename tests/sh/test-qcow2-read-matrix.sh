#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Images made by qemu-img and qemu-io, with every feature they can
# produce, read back through the engine byte for byte as qemu reads them.
source "$LQ_TOP/tests/lib.sh"
ulimit -c 0

# pattern IMAGE CS: a mix of data, zero, discarded and compressed clusters.
pattern() {
	local img=$1 cs=$2
	qemu-io -f qcow2 -c "write -P 0x11 0 100k" -c "write -P 0x22 1000k 3000" \
		-c "write -P 0x33 2M 300k" -c "write -z 2100k 150k" \
		-c "discard 2M 64k" -c "write -c -P 0x44 4M $cs" \
		-c "write -P 0x55 $((8 * 1024 * 1024 - 700)) 700" "$img" >/dev/null
}

# same_counts IMAGE: allocated and compressed bytes as qemu-img map
# gives them (data of this image; a compressed extent has no offset).
same_counts() {
	local map want
	map=$(qemu-img map --output=json "$1")
	want=$(jq -r '[.[] | select(.data and .depth == 0)] |
		"\(map(.length) | add // 0) \(map(select(has("offset") | not) | .length) | add // 0)"' \
		<<<"$map")
	assert_eq "$1: allocated and compressed bytes" "$want" \
		"$(lq img info --json "$1" | jq -r '"\(.["allocated-bytes"]) \(.["compressed-bytes"])"')"
}

note "v2/v3, cluster sizes, refcount widths"
for spec in 0.10:512:16 0.10:65536:16 0.10:2097152:16 \
	    1.1:512:1 1.1:1024:2 1.1:4096:4 1.1:8192:8 1.1:65536:16 1.1:131072:32 \
	    1.1:2097152:64 1.1:16384:64 1.1:512:64; do
	IFS=: read -r compat cs rb <<<"$spec"
	img=m-$compat-$cs-$rb.qcow2
	qemu-img create -q -f qcow2 -o compat=$compat,cluster_size=$cs,refcount_bits=$rb "$img" 8M
	pattern "$img" "$cs"
	same_view "$img"
	same_counts "$img"
done

note "compressed image (qemu-img convert -c)"
head -c 3M /dev/urandom >r.raw
{ yes lvqcow || true; } | head -c 2M >>r.raw
truncate -s 6M r.raw
qemu-img convert -q -c -O qcow2 r.raw c.qcow2
same_view c.qcow2
same_counts c.qcow2
qemu-img convert -q -c -O qcow2 -o cluster_size=4096 r.raw c4k.qcow2
same_view c4k.qcow2
same_counts c4k.qcow2
[ "$(lq img info --json c.qcow2 | jq '.["compressed-bytes"]')" -gt 0 ] ||
	die "c.qcow2 has no compressed bytes: the count above proves nothing"

note "extended L2 (subclusters)"
qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=64k x.qcow2 4M
qemu-io -f qcow2 -c "write -P 0x61 5k 1k" -c "write -P 0x62 70k 10k" \
	-c "write -z 130k 4k" -c "write -P 0x63 200k 64k" -c "write -z 210k 2k" \
	-c "discard 256k 64k" x.qcow2 >/dev/null
same_view x.qcow2
qemu-img create -q -f qcow2 -b x.qcow2 -F qcow2 -o extended_l2=on,cluster_size=32k xt.qcow2
qemu-io -f qcow2 -c "write -P 0x71 6k 1k" -c "write -z 72k 3k" xt.qcow2 >/dev/null
same_view xt.qcow2

note "preallocation"
for p in metadata falloc full; do
	qemu-img create -q -f qcow2 -o preallocation=$p p-$p.qcow2 3M
	qemu-io -f qcow2 -c "write -P 0x77 100k 5k" p-$p.qcow2 >/dev/null
	same_view p-$p.qcow2
done

note "lazy refcounts left dirty"
qemu-img create -q -f qcow2 -o lazy_refcounts=on d.qcow2 4M
qemu-io -f qcow2 -c "write -P 0x88 0 200k" -c "write -P 0x89 1M 70k" -c abort d.qcow2 \
	>/dev/null 2>&1 || true
[ "$(qemu-img info --output=json d.qcow2 | jq -r '.["dirty-flag"]')" = true ] ||
	die "d.qcow2 was not left dirty"
same_view d.qcow2

note "internal snapshots present"
qemu-img create -q -f qcow2 s.qcow2 4M
qemu-io -f qcow2 -c "write -P 0x91 0 300k" s.qcow2 >/dev/null
qemu-img snapshot -c snap1 s.qcow2
qemu-io -f qcow2 -c "write -P 0x92 64k 64k" -c "write -z 256k 64k" s.qcow2 >/dev/null
same_view s.qcow2

note "chains with raw and qcow2 bases, backing smaller than the child"
head -c 1M /dev/urandom >base.raw
qemu-img create -q -f qcow2 -b base.raw -F raw l1.qcow2 3M
qemu-io -f qcow2 -c "write -P 0xa1 900k 200k" l1.qcow2 >/dev/null
same_view l1.qcow2
qemu-img create -q -f qcow2 -o cluster_size=4k b0.qcow2 2M
qemu-io -f qcow2 -c "write -P 0xb0 0 2M" b0.qcow2 >/dev/null
prev=b0.qcow2
for i in $(seq 1 30); do
	cur=c$i.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=$((512 << (i % 8))) -b "$prev" -F qcow2 "$cur" $((2 + i / 10))M
	qemu-io -f qcow2 -c "write -P $((i + 1)) $((i * 37 * 1024)) $((i * 1000 + 1))" \
		-c "write -z $((i * 53 * 1024)) 4k" "$cur" >/dev/null
	prev=$cur
done
same_view c1.qcow2
same_view c15.qcow2
same_view c30.qcow2
[ "$(lq img info --json c30.qcow2 | jq -r '.["chain-depth"]')" = 31 ] || die "chain depth"

note "backing with no format given (probed)"
qemu-img create -q -f qcow2 -b b0.qcow2 -F qcow2 nf.qcow2 2M
qemu-img rebase -q -u -b b0.qcow2 nf.qcow2 2>/dev/null || true
same_view nf.qcow2

note "writing a dirty image rebuilds its refcounts first"
qemu-img info --output=json d.qcow2 >/dev/null
printf 'after-dirty' | lq img write d.qcow2 123456
qcheck d.qcow2
[ "$(qemu-img info --output=json d.qcow2 | jq -r '.["dirty-flag"]')" = false ] ||
	die "dirty flag still set"
same_view d.qcow2
assert_eq "dirty write" after-dirty "$(lq img read d.qcow2 123456 11)"

note "images the engine only reads refuse writes, unchanged"
for img in s.qcow2 x.qcow2; do
	sum=$(md5sum <"$img")
	printf 'x' | not lq img write "$img" 0
	not lq img zero "$img" 0 512
	not lq img resize "$img" 100M
	assert_eq "$img unchanged" "$sum" "$(md5sum <"$img")"
done

note "map --json matches qemu-img map (cluster-aligned data, zeros, short backing)"
qemu-img create -q -f qcow2 mb.qcow2 4M
qemu-io -f qcow2 -c "write -P 1 0 1M" -c "write -z 2M 128k" mb.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b mb.qcow2 -F qcow2 mt.qcow2 6M
qemu-io -f qcow2 -c "write -P 2 512k 128k" -c "write -z 3M 64k" -c "write -z 0 64k" \
	-c "write -c -P 3 5M 64k" mt.qcow2 >/dev/null
assert_eq "map" "$(qemu-img map --output=json mt.qcow2 | jq -c '.[]')" \
	"$(lq img map --json mt.qcow2 | jq -c '.[]')"
