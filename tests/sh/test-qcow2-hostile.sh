#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile and unsupported images: refused with a clear error, never a
# crash, and never changed by a refused operation.
source "$LQ_TOP/tests/lib.sh"

fresh() { rm -f "$1"; lq img create --cluster-size 4k "$1" 1M; printf 'data' | lq img write "$1" 5000; }

# meta_sum IMG: digest of IMG except the incompatible feature bits.
meta_sum() { python3 -c 'import sys, hashlib
b = bytearray(open(sys.argv[1], "rb").read()); b[72:80] = bytes(8)
print(hashlib.sha256(b).hexdigest())' "$1"; }

# marked IMG CMD...: CMD (a write meeting corruption) fails cleanly and
# IMG keeps its bytes except for the corrupt bit, which is now set.
marked() {
	local img=$1 sum
	shift
	sum=$(meta_sum "$img")
	not "$@"
	assert_eq "$img unchanged but for the corrupt bit" "$sum" "$(meta_sum "$img")"
	assert_eq "$img marked corrupt" 2 $(( $(be_field "$img" 72 8) & 2 ))
}

# refused IMG CMD...: CMD fails cleanly and IMG keeps its bytes.
refused() {
	local img=$1 sum
	shift
	sum=$(md5sum <"$img")
	not "$@"
	assert_eq "$img unchanged by $*" "$sum" "$(md5sum <"$img")"
}

note "corrupt bit: reads work, writes are refused"
fresh c.qcow2
poke_be c.qcow2 72 8 2
assert_eq read data "$(lq img read c.qcow2 5000 4)"
refused c.qcow2 lq img write c.qcow2 0 </dev/null
refused c.qcow2 lq img set-hidden c.qcow2 1

note "unknown incompatible feature, data file, encryption, bad version"
for spec in 72:8:32 72:8:4 32:4:1 4:4:4 20:4:30 100:4:4104 100:4:60; do
	IFS=: read -r off size val <<<"$spec"
	fresh u.qcow2
	poke_be u.qcow2 "$off" "$size" "$val"
	refused u.qcow2 lq img read u.qcow2 0 512 >/dev/null
	refused u.qcow2 lq img info u.qcow2
done

note "broken tables: clear errors"
fresh t.qcow2
l1=$(be_field t.qcow2 40 8)
poke_be t.qcow2 "$l1" 8 9223372036854779905      # misaligned L2 table
refused t.qcow2 lq img read t.qcow2 0 4096
marked t.qcow2 lq img write t.qcow2 0 <<<x
fresh t2.qcow2
l2=$(( $(be_field t2.qcow2 "$(be_field t2.qcow2 40 8)" 8) & 0xffffffffffe00 ))
poke_be t2.qcow2 $((l2 + 8)) 8 9223372036854775810  # reserved bit in an L2 entry
refused t2.qcow2 lq img read t2.qcow2 4096 10
fresh t3.qcow2
poke_be t3.qcow2 48 8 0                               # refcount table at 0
refused t3.qcow2 lq img info t3.qcow2
head -c 100 t3.qcow2 >short.qcow2
refused short.qcow2 lq img read short.qcow2 0 1

note "broken refcounts: allocation refuses to overwrite the header"
fresh r.qcow2
rt=$(be_field r.qcow2 48 8)
rb=$(( $(be_field r.qcow2 "$rt" 8) ))
poke_be r.qcow2 "$rb" 2 0                             # header cluster "free"
poke_be r.qcow2 $((rb + 2)) 2 0
poke_be r.qcow2 $((rb + 4)) 2 0
marked r.qcow2 lq img write r.qcow2 200000 <<<x
assert_eq "still readable" data "$(lq img read r.qcow2 5000 4)"

note "backing chains: missing, loops, too deep"
lq img create -b nowhere.qcow2 -F qcow2 m.qcow2 1M
refused m.qcow2 lq img read m.qcow2 0 512
lq img create -b loop2.qcow2 -F qcow2 loop1.qcow2 1M
lq img create -b loop1.qcow2 -F qcow2 loop2.qcow2 1M
lq img read loop1.qcow2 0 1 2>err && die "loop accepted"
grep -q loop err || die "loop error unclear: $(cat err)"
prev=
for i in $(seq 0 65); do
	if [ -z "$prev" ]; then lq img create d$i.qcow2 1M
	else lq img create -b "$prev" -F qcow2 d$i.qcow2 1M; fi
	prev=d$i.qcow2
done
lq img read d63.qcow2 0 1 >/dev/null
not lq img read d65.qcow2 0 1

note "requests outside the disk"
fresh o.qcow2
refused o.qcow2 lq img read o.qcow2 1048000 1000
refused o.qcow2 lq img zero o.qcow2 1048576 1
refused o.qcow2 lq img discard o.qcow2 18446744073709551615 2
qcheck o.qcow2
