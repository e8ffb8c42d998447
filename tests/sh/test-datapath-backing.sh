#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The server opens only the chain the metadata names: a volume image
# whose header is rewritten to name another file as its backing file
# (/etc/passwd as raw, or a relative path out of the SR) is served with
# its own content only — zeros where it has none — never that file's.
. "$LQ_TOP/tests/lib.sh"
at_exit kill_servers
head_of() { env PYTHONPATH="$LQ_TESTS" python3 "$LQ_TESTS/nbd_hostile.py" head "$@"; }
head -c 4096 /dev/zero >zeros
printf 'OUTSIDE-SECRET-%.0s' $(seq 300) >outside
truncate -s 4096 outside

SRU=$(new_sr sr)
for backing in /etc/passwd:raw ../../outside:raw "$PWD/outside:raw"; do
	name=${backing%:*} fmt=${backing##*:}
	note "header names $name ($fmt)"
	VU=$(xe vdi-create sr-uuid="$SRU" name-label=disk virtual-size=$((4 << 20)))
	img=$(ls -t sr/images/*.qcow2 | sed -n 1p)
	qemu-img rebase -q -u -f qcow2 -b "$name" -F "$fmt" "$img"
	be=$(xe vdi-attach uuid="$VU" domain=0)
	nbd=$(json_get "$be" '[i[1]["uri"] for i in j["implementations"] if i[0] == "Nbd"][0]')
	[[ $nbd =~ ^nbd:unix:(.*):exportname=(.*)$ ]] || die "bad NBD URI $nbd"
	head_of "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" 4096 >got || die "read through NBD failed"
	cmp -s got zeros || die "served bytes of $name: $(head -c 40 got | tr -cd '[:print:]')"
	xe vdi-detach uuid="$VU" domain=0
done

note "lvqcow serve without --backing ignores the header's backing name"
qemu-img create -q -f qcow2 -b "$PWD/outside" -F raw top.qcow2 4M
nbd_start top top.qcow2
head_of "$PWD/top.sock" top 4096 >got
cmp_files got zeros
nbd_stop top
note "--backing is the chain served, whatever file the header names"
qemu-img convert -q -f raw -O qcow2 outside base.qcow2
qemu-img create -q -f qcow2 -b "$PWD/base.qcow2" -F qcow2 top2.qcow2 4M
nbd_start top2 top2.qcow2 --backing "$PWD/base.qcow2"
head_of "$PWD/top2.sock" top2 4096 >got
cmp_files got outside
nbd_stop top2
qemu-img create -q -f qcow2 other.qcow2 4M
nbd_start top3 top2.qcow2 --backing "$PWD/other.qcow2"
head_of "$PWD/top3.sock" top3 4096 >got
cmp_files got zeros
nbd_stop top3
echo ok
