#!/bin/bash
# A corpus of corrupted images, generated deterministically here: bits
# flipped in every header field, in L1 and L2 entries, in the refcount
# table and in refcount blocks (at offsets computed from the image), plus
# random flips inside the metadata with a fixed seed.  For each one,
# lvqcow img check must give qemu-img check's exit code, and info, map,
# read and a repair attempt must never crash.  Known, deliberate
# divergences (docs/qcow2-ops.md) are accepted only where they apply.
# By default every other case runs (about 100, to keep the test short);
# LQ_CORRUPT_FULL=1 runs all of them.
. "$LQ_TOP/tests/lib.sh"

# cases IMAGE SEED COUNT HEADER: write one corrupted copy of IMAGE per
# case into cases/ and print "file offset bit" lines (the header fields are
# flipped only when HEADER is 1).
cases() {
	python3 - "$@" <<'PY'
import random, sys
path, seed, count, header = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
d = open(path, "rb").read()
be = lambda o, n: int.from_bytes(d[o:o + n], "big")
v3 = be(4, 4) == 3
cs = 1 << be(20, 4); l1_size, l1 = be(36, 4), be(40, 8)
rt, rtc = be(48, 8), be(56, 4)
out = []
fields = [(0, 4), (4, 4), (8, 8), (16, 4), (20, 4), (24, 8), (32, 4), (36, 4), (40, 8),
          (48, 8), (56, 4), (60, 4), (64, 8)]
if v3:
    fields += [(72, 8), (80, 8), (88, 8), (96, 4), (100, 4)]
for o, n in fields if header else []:    # low bit of the last byte, a high bit
    out += [(o + n - 1, 0), (o + (n - 1) // 2, 5)]
meta = [0]
def entry_bits(off, bits):
    for b in bits:
        out.append((off + 7 - b // 8, b % 8))
l2s = [be(l1 + 8 * i, 8) & 0x00fffffffffffe00 for i in range(l1_size)]
l2s = [x for x in l2s if x]
entry_bits(l1, [0, 9, 22, 40, 56, 63])
for t in l2s[:1]:
    entry_bits(t, [0, 1, 9, 30, 50, 62, 63])
    entry_bits(t + 8 * 5, [9, 63])
entry_bits(rt, [0, 9, 30])
rbs = [be(rt + 8 * i, 8) & ~0x1ff for i in range(rtc * cs // 8)]
rbs = [x for x in rbs if x]
width = 2 if not v3 else (1 << be(96, 4)) // 8 or 1
for rb in rbs[:1]:
    for k in [0, l1 // cs, rb // cs] + [t // cs for t in l2s[:1]]:
        for b in (0, 8 * width - 1):
            out.append((rb + width * k + width - 1 - b // 8, b % 8))
meta += [l1 // cs * cs, rt] + l2s + rbs
rng = random.Random(seed)
for _ in range(count):
    base = rng.choice(meta)
    out.append((base + rng.randrange(cs), rng.randrange(8)))
import os
os.makedirs("cases", exist_ok=True)
for i, (o, b) in enumerate(out):
    img = bytearray(d)
    if o >= len(img):
        img += bytes(o + 1 - len(img))
    img[o] ^= 1 << b
    name = "cases/%s-%03d.qcow2" % (os.path.basename(path), i)
    open(name, "wb").write(img)
    print(name, o, b)
PY
}

# one_case BASE IMAGE OFFSET BIT: compare the checkers on one corrupted copy.
one_case() {
	local base=$1 img=$2 off=$3 bit=$4 ours theirs
	theirs=0
	qemu-img check $img >/dev/null 2>qemu.err || theirs=$?
	ours=$(rc_of lq img check $img)
	[ "$ours" -lt 128 ] || die "check crashed on $base +$off bit $bit"
	if [ "$ours" != "$theirs" ]; then
		if [ "$theirs" = 1 ] && [ "$ours" = 2 ] && grep -q "Cannot allocate memory" qemu.err; then
			diverged=$((diverged + 1))     # qemu ran out of memory on a far offset
		else
			echo "MISMATCH $base +$off bit $bit: qemu-img check $theirs, lvqcow $ours" \
				"($(head -c 200 qemu.err | tr '\n' ' '))" | tee -a mismatches
		fi
	fi
	for cmd in "info --json $img" "map --json $img" "read $img 0 1M"; do
		rc=$(rc_of lq img $cmd)
		[ "$rc" -lt 128 ] || die "lvqcow img $cmd crashed (signal $((rc - 128))) on $base +$off bit $bit"
	done
	rc=$(rc_of lq img check --repair all $img)
	[ "$rc" -lt 128 ] || die "repair crashed on $base +$off bit $bit"
	if [ "$rc" = 0 ]; then
		rc=$(rc_of qemu-img check $img)
		[ "$rc" = 0 ] || die "$base +$off bit $bit: repaired, but qemu-img check says $rc"
	fi
	total=$((total + 1))
}

total=0 diverged=0
note "base images"
qemu-img create -q -f qcow2 -o cluster_size=4096 v3.qcow2 64M
qemu-io -f qcow2 -c 'write -P 1 0 200k' -c 'write -P 2 1M 64k' -c 'write -z 2M 8k' \
	-c 'write -P 3 40M 12k' -c 'write -P 4 63M 4k' v3.qcow2 >/dev/null
qemu-img convert -c -O qcow2 -o cluster_size=4096 v3.qcow2 v3c.qcow2
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=65536 v2.qcow2 16M
qemu-io -f qcow2 -c 'write -P 5 0 192k' -c 'write -P 6 8M 64k' v2.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=4096,refcount_bits=8 rb8.qcow2 8M
qemu-io -f qcow2 -c 'write -P 7 0 64k' rb8.qcow2 >/dev/null
for base in v3.qcow2 v3c.qcow2 v2.qcow2 rb8.qcow2; do
	qcheck $base
	n=0 header=1
	[ $base = v3.qcow2 ] || [ $base = v2.qcow2 ] || header=0
	i=0
	while read -r img off bit; do
		# every other case by default; LQ_CORRUPT_FULL=1 runs them all
		if [ -n "${LQ_CORRUPT_FULL:-}" ] || [ $((i % 2)) = 0 ]; then
			one_case $base "$img" "$off" "$bit"
			n=$((n + 1))
		fi
		rm -f "$img"
		i=$((i + 1))
	done < <(cases $base 42 8 $header)
	note "$base: $n corrupted copies agree"
done
note "$total cases, $diverged accepted divergences (qemu-img out of memory)"
[ ! -s mismatches ] || die "$(wc -l < mismatches) exit codes differ from qemu-img's"
