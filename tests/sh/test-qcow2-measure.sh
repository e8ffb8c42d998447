#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lvqcow img measure gives exactly qemu-img measure -O qcow2's numbers:
# for new images over a grid of virtual and cluster sizes (odd sizes, the
# 0 and 16 TiB ends, refcount widths, extended L2, sizes qemu refuses) and
# for existing images and chains as sources.
. "$LQ_TOP/tests/lib.sh"

# measure_pair ARGS...: our numbers and qemu's for the same --size options.
measure_pair() {
	local ours theirs qopts="" size="" cs="" rb="" x=""
	while [ $# -gt 0 ]; do
		case $1 in
		--size) size=$2; shift ;;
		--cluster-size) cs=$2; qopts="$qopts,cluster_size=$2"; shift ;;
		--refcount-bits) rb=$2; qopts="$qopts,refcount_bits=$2"; shift ;;
		--extended-l2) x=1; qopts="$qopts,extended_l2=on" ;;
		esac
		shift
	done
	ours=$(lq img measure --json --size "$size" ${cs:+--cluster-size $cs} \
		${rb:+--refcount-bits $rb} ${x:+--extended-l2} 2>/dev/null | tr -d ' \n') || ours=FAIL
	theirs=$(qemu-img measure -O qcow2 --output=json --size "$size" ${qopts:+-o ${qopts#,}} \
		2>/dev/null | tr -d ' \n') || theirs=FAIL
	assert_eq "measure --size $size cs=$cs rb=$rb x=$x" "$theirs" "$ours"
}

note "new images: sizes x cluster sizes"
n=0
for size in 0 1 511 512 65535 65536 1048577 1G 1234567891 100G 1099511627775 2040G 4T 16T; do
	for cs in 512 4096 65536 2097152; do
		measure_pair --size $size --cluster-size $cs
		n=$((n + 1))
	done
done
measure_pair --size 10G
note "$n size/cluster combinations agree"

note "refcount widths and extended L2"
for rb in 1 2 8 16 32 64; do
	measure_pair --size 100G --refcount-bits $rb
	measure_pair --size 3G --cluster-size 4096 --refcount-bits $rb
done
measure_pair --size 100G --extended-l2
measure_pair --size 7G --cluster-size 16384 --extended-l2
measure_pair --size 16T --cluster-size 2097152 --extended-l2

note "errors"
not lq img measure --size 16T --cluster-size 512
not lq img measure --size 1G --cluster-size 1000
not lq img measure --size 1G --refcount-bits 3
not lq img measure --size 1G --cluster-size 4096 --extended-l2

# file_pair IMAGE [OPTS]: existing image as the source.
file_pair() {
	local img=$1 ours theirs
	ours=$(lq img measure --json "$img" | tr -d ' \n')
	theirs=$(qemu-img measure -O qcow2 --output=json "$img" | tr -d ' \n')
	assert_eq "measure $img" "$theirs" "$ours"
}

note "existing images"
qemu-img create -q -f qcow2 empty.qcow2 5G
file_pair empty.qcow2
qemu-img create -q -f qcow2 -o cluster_size=4096 data.qcow2 3G
qemu-io -f qcow2 -c 'write -P 7 0 3M' -c 'write -P 8 100M 100k' -c 'write -z 200M 2M' \
	-c 'write -P 9 3221224448 1024' data.qcow2 >/dev/null
file_pair data.qcow2
qemu-img create -q -f qcow2 -b data.qcow2 -F qcow2 top.qcow2
qemu-io -f qcow2 -c 'write -P 3 1G 5M' -c 'write -z 0 1M' top.qcow2 >/dev/null
file_pair top.qcow2
qemu-img convert -c -O qcow2 data.qcow2 comp.qcow2
file_pair comp.qcow2
note "all measures agree with qemu-img"
