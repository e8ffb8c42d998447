# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_coalesce_chain: random backing chains built with qemu-img / qemu-io,
and the bytes each direction of a coalesce must copy, counted from
qemu-img's own allocation maps (independent of the engine).

    lq_coalesce_chain.py make SEED DEPTH
        creates i0.qcow2 (the base) <- i1.qcow2 ... <- i<DEPTH-1>.qcow2;
        cluster size, compat and sizes come from SEED; each image gets
        random data, zero (with and without unmap), compressed and discard
        requests at 512-byte aligned, often cluster-unaligned offsets.
    lq_coalesce_chain.py count CHILD PARENT
        prints "UP DOWN": the data bytes CHILD holds on its own (up), and
        the data bytes PARENT holds on its own where CHILD has nothing
        allocated (down).
"""
import json
import random
import subprocess
import sys


def qemu_io(img, cmds):
    args = ["qemu-io", "-f", "qcow2"]
    for c in cmds:
        args += ["-c", c]
    subprocess.run(args + [img], check=True, capture_output=True)


def requests(rng, size, cs, full):
    """qemu-io commands; `full` starts by writing most of the image."""
    cmds = []
    if full:
        cmds.append("write -P %d 0 %d" % (rng.randrange(1, 256), size))
    for _ in range(rng.randint(8, 30)):
        off = rng.randrange(size // 512) * 512
        ln = min(size - off, rng.choice([512, cs, 3 * cs, rng.randrange(1, 64) * 512,
                                         rng.randrange(1, 2 * size // 512 // 8 + 2) * 512]))
        if ln <= 0:
            continue
        op = rng.choices(["w", "z", "zu", "d", "c"], [8, 2, 1, 2, 1])[0]
        if op == "w":
            cmds.append("write -P %d %d %d" % (rng.randrange(1, 256), off, ln))
        elif op in ("z", "zu"):
            cmds.append("write -z%s %d %d" % (" -u" if op == "zu" else "", off, ln))
        elif op == "d":
            cmds.append("discard %d %d" % (off, ln))
        elif off % cs == 0 and ln % cs == 0:
            cmds.append("write -c -P %d %d %d" % (rng.randrange(1, 256), off, ln))
    return cmds


def make(seed, depth):
    rng = random.Random(seed * 10 + depth)
    size = rng.choice([4 << 20, 6 << 20, (5 << 20) + 512 * 3])
    sizes = [size] * depth
    if depth == 2 and rng.random() < 0.3:
        sizes[1] = size + rng.choice([1 << 20, 512 * 7])
    for i in range(depth):
        cs = rng.choice([4096, 65536, 65536, 512 * 32])
        compat = rng.choice(["1.1", "1.1", "0.10"])
        args = ["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                "cluster_size=%d,compat=%s" % (cs, compat)]
        if i:
            args += ["-b", "i%d.qcow2" % (i - 1), "-F", "qcow2"]
        subprocess.run(args + ["i%d.qcow2" % i, str(sizes[i])], check=True)
        qemu_io("i%d.qcow2" % i, requests(rng, sizes[i], cs, i == 0 or rng.random() < 0.3))
        print("i%d: cluster %d compat %s size %d" % (i, cs, compat, sizes[i]))


def own_map(img):
    """[(start, end, present, data)] of img alone (its backing not opened)."""
    spec = {"driver": "qcow2", "backing": None, "file": {"driver": "file", "filename": img}}
    out = subprocess.run(["qemu-img", "map", "--output=json", "json:" + json.dumps(spec)],
                         check=True, capture_output=True).stdout
    return [(e["start"], e["start"] + e["length"], e["present"], e["data"])
            for e in json.loads(out)]


def count(child, parent):
    cmap, pmap = own_map(child), own_map(parent)
    up = sum(b - a for a, b, _, data in cmap if data)
    csize = cmap[-1][1] if cmap else 0
    down = 0
    for a, b, _, data in pmap:
        if not data:
            continue
        b = min(b, csize)
        for ca, cb, present, _ in cmap:
            lo, hi = max(a, ca), min(b, cb)
            if lo < hi and not present:
                down += hi - lo
    print(up, down)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "count":
        count(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
