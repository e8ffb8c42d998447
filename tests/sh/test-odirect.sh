#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Direct I/O in the NBD server: "lvqcow serve" opens its images with
# O_DIRECT by default (the descriptor's flags in /proc prove it), and
# unaligned guest writes (random offsets and lengths, and concurrent
# single bytes that share a block) land byte for byte as in a raw model,
# for 64 KiB clusters, for 512-byte clusters whose metadata and data
# share the device's blocks, and for a raw export.  --cache writeback serves buffered; where
# open(O_DIRECT) is refused (a preload library stands in for such a
# filesystem) the server falls back to buffered I/O and logs it once per
# file; the SR device-config "cache" reaches the server the datapath
# starts, and a bad value is refused.
. "$LQ_TOP/tests/lib.sh"
command -v nbdcopy >/dev/null || skip "nbdcopy not installed"
python3 -c 'import os; os.close(os.open("probe", os.O_RDWR | os.O_CREAT | os.O_DIRECT))' 2>/dev/null ||
	skip "the test directory refuses O_DIRECT"
size=$((64 << 20))

# img_flags NAME IMAGE: the open flags (octal) of the server's descriptor on IMAGE.
img_flags() {
	local pid f
	pid=$(nbd_pid "$1")
	for f in /proc/"$pid"/fd/*; do
		if [ "$(readlink "$f")" = "$(realpath "$2")" ]; then
			awk '/^flags:/ {print $2}' /proc/"$pid"/fdinfo/"${f##*/}"
			return
		fi
	done
	die "server $1 has no descriptor on $2"
}
is_direct() { (( 0$(img_flags "$1" "$2") & 040000 )); }

# neighbours NAME MODEL: 16 concurrent single-byte writes into one block.
neighbours() {
	local args=() i
	for ((i = 0; i < 16; i++)); do
		args+=(-c "aio_write -P $((i + 65)) $((5000 + i * 3)) 1")
		printf "\\x$(printf %x $((i + 65)))" | dd of="$2" bs=1 seek=$((5000 + i * 3)) conv=notrunc status=none
	done
	qemu-io -f raw "${args[@]}" -c aio_flush "$(nbd_qemu "$1")" >/dev/null
}

for cs in 65536 512; do
	note "cluster size $cs: served with O_DIRECT, unaligned writes match the model"
	rm -rf w && mkdir w
	qemu-img create -q -f qcow2 -o cluster_size=$cs img$cs.qcow2 $size
	head -c $size /dev/zero >model.raw
	nbd_start v$cs img$cs.qcow2
	is_direct v$cs img$cs.qcow2 || die "not open with O_DIRECT: flags $(img_flags v$cs img$cs.qcow2)"
	python3 "$LQ_TESTS/nbd_ops.py" qemu-io $cs 60 $size model.raw w >ops.txt
	args=()
	while read -r line; do args+=(-c "$line"); done <ops.txt
	qemu-io -f raw "${args[@]}" -c "write -P 7 1048576 65536" -c "write -P 9 3 5" \
		"$(nbd_qemu v$cs)" >/dev/null
	printf '\x07%.0s' $(seq 65536) | dd of=model.raw bs=1 seek=1048576 conv=notrunc status=none
	printf '\x09%.0s' 1 2 3 4 5 | dd of=model.raw bs=1 seek=3 conv=notrunc status=none
	neighbours v$cs model.raw
	nbdcopy "$(nbd_uri v$cs)" back.raw
	cmp_files back.raw model.raw
	nbd_stop v$cs
	qcheck img$cs.qcow2
	qemu-img compare -q -f qcow2 -F raw img$cs.qcow2 model.raw || die "qemu-img compare ($cs)"
done

note "--format raw: O_DIRECT, unaligned writes match the model"
head -c $size /dev/zero >raw.img
head -c $size /dev/zero >model.raw
nbd_start raw raw.img --format raw
is_direct raw raw.img || die "raw image not open with O_DIRECT"
rm -rf w && mkdir w
python3 "$LQ_TESTS/nbd_ops.py" qemu-io 77 40 $size model.raw w >ops.txt
args=()
while read -r line; do args+=(-c "$line"); done <ops.txt
qemu-io -f raw "${args[@]}" "$(nbd_qemu raw)" >/dev/null
neighbours raw model.raw
nbd_stop raw
cmp_files raw.img model.raw

note "--cache writeback serves buffered"
qemu-img create -q -f qcow2 wb.qcow2 $size
nbd_start wb wb.qcow2 --cache writeback
is_direct wb wb.qcow2 && die "O_DIRECT with --cache writeback"
qemu-io -f raw -c "write -P 5 1 4097" "$(nbd_qemu wb)" >/dev/null
nbd_stop wb
qemu-io -f qcow2 -c "read -P 5 1 4097" -c "read -P 0 0 1" wb.qcow2 | grep -q "read 4097/4097" ||
	die "writeback data"
not lq serve --socket "$PWD/x.sock" --export x --cache bogus wb.qcow2 2>/dev/null

note "a filesystem refusing O_DIRECT: buffered, logged once per file"
cc -shared -fPIC -o refuse.so "$LQ_TESTS/odirect_refuse.c" -ldl
qemu-img create -q -f qcow2 base.qcow2 $size
qemu-io -f qcow2 -c "write -P 3 0 1M" base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
LD_PRELOAD=$PWD/refuse.so ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 \
	nbd_start fb top.qcow2 --backing "$PWD/base.qcow2"
is_direct fb top.qcow2 && die "O_DIRECT although refused"
qemu-io -f raw -c "write -P 4 100 200" -c "read -P 3 0 100" -c "read -P 4 100 200" \
	"$(nbd_qemu fb)" | grep -c "^read" | grep -qx 2 || die "fallback data"
nbd_stop fb
assert_eq "fallback lines (top)" 1 "$(grep -c "top.qcow2: the filesystem refuses direct I/O" fb.log)"
assert_eq "fallback lines (base)" 1 "$(grep -c "base.qcow2: the filesystem refuses direct I/O" fb.log)"

note "SR device-config cache: bad value refused, writeback reaches the server"
command -v jq >/dev/null || skip "jq not installed"
mkdir bad
e=$(xe sr-create type=fileqcow name-label=bad device-config:path="$(realpath bad)" \
	device-config:cache=sometimes 2>&1 || true)
grep -q "cache" <<<"$e" || die "bad cache value accepted: $e"
at_exit kill_servers
for mode in writeback none; do
	mkdir sr$mode
	SRU=$(xe sr-create type=fileqcow name-label=$mode device-config:path="$(realpath sr$mode)" \
		device-config:cache=$mode)
	VU=$(xe vdi-create sr-uuid="$SRU" name-label=d virtual-size=$size)
	be=$(xe vdi-attach uuid="$VU" domain=0)
	at_exit xe vdi-detach uuid="$VU" domain=0
	nbd=$(json_get "$be" '[i[1]["uri"] for i in j["implementations"] if i[0] == "Nbd"][0]')
	[[ $nbd =~ ^nbd:unix:(.*):exportname=(.*)$ ]] || die "bad NBD URI $nbd"
	pid=$(cat "$(dirname "${BASH_REMATCH[1]}")/pid")
	img=$(find "$PWD/sr$mode" -name '*.qcow2' | sed -n 1p)
	flags=
	for f in /proc/"$pid"/fd/*; do
		[ "$(readlink "$f")" = "$img" ] && flags=$(awk '/^flags:/ {print $2}' /proc/"$pid"/fdinfo/"${f##*/}")
	done
	[ -n "$flags" ] || die "the $mode server has no descriptor on $img"
	if [ $mode = writeback ]; then
		(( 0$flags & 040000 )) && die "writeback SR served with O_DIRECT"
	else
		(( 0$flags & 040000 )) || die "default SR not served with O_DIRECT"
	fi
	xe vdi-detach uuid="$VU" domain=0
done
