# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_tree_long: a long run of random operations (create, write,
snapshot, clone, destroy, resize, and the collector now and then) against
a model of what each volume holds.  Chains never pass the depth cap, and
at the end every volume matches its model; once all but one volume are
gone the collector brings that one back to a single node.

    lq_tree_long.py DIR OPS [SEED]
"""
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402
import xss  # noqa: E402

MIB = t.MIB


class Vol:
    def __init__(self, size, data=None, rw=True):
        self.size, self.rw = size, rw
        self.data = bytearray(data if data is not None else bytes(size))


def verify(sr, vols, key):
    raw = sr + "/../long.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", t.leaf_image(sr, key), raw], check=True)
    with open(raw, "rb") as f:
        got = f.read()
    os.unlink(raw)
    check("volume %s matches its model" % key, got == bytes(vols[key].data))


def step(sr, vols, rng, counts):
    op = rng.choice(["create", "write", "write", "write", "snapshot", "clone", "destroy", "resize",
                     "check", "gc"])
    keys = sorted(vols)
    writable = [k for k in keys if vols[k].rw]
    if op == "create" or not keys:
        size = rng.choice([1, 2, 3]) * MIB
        v = call("Volume.create", sr=sr, name="v", description="", size=size, sharable=False)
        vols[v["key"]] = Vol(size)
    elif op == "write" and writable:
        k = rng.choice(writable)
        off = rng.randrange(0, vols[k].size // 4096) * 4096
        n = min(rng.choice([4096, 65536, 200 * 1024]), vols[k].size - off)
        data = bytes([rng.randrange(256)]) * n
        t.write(sr, k, off, data)
        vols[k].data[off:off + n] = data
    elif op in ("snapshot", "clone"):
        k = rng.choice(keys)
        try:
            r = call("Volume." + op, sr=sr, key=k)
        except xss.XapiError as e:
            eq("only the depth cap stops a %s" % op, "Invalid_argument", e.code)
            counts["capped"] += 1
            return
        vols[r["key"]] = Vol(vols[k].size, vols[k].data, op == "clone")
    elif op == "destroy" and len(keys) > 1:
        k = rng.choice(keys)
        call("Volume.destroy", sr=sr, key=k)
        del vols[k]
    elif op == "resize" and writable:
        k = rng.choice(writable)
        grow = vols[k].size + rng.choice([512, 4096, MIB])
        call("Volume.resize", sr=sr, key=k, new_size=grow)
        vols[k].data.extend(bytes(grow - vols[k].size))
        vols[k].size = grow
    elif op == "check":
        verify(sr, vols, rng.choice(keys))
    elif op == "gc":
        t.collect(sr)
    counts[op] += 1
    check("depth within the cap", max(t.depth(sr, k) for k in vols) <= 30)


def run(path, ops, seed):
    os.environ["LVQCOW_GC_AUTO"] = "0"
    sr = t.new_sr(path)
    rng = random.Random(seed)
    vols, counts = {}, {k: 0 for k in ("create", "write", "snapshot", "clone", "destroy",
                                        "resize", "check", "gc", "capped")}
    for _ in range(ops):
        step(sr, vols, rng, counts)
    t.collect(sr)
    for k in sorted(vols):
        verify(sr, vols, k)
    t.check_images(sr)
    deepest = max(t.depth(sr, k) for k in vols)
    keep = sorted(k for k in vols if vols[k].rw)[0] if any(v.rw for v in vols.values()) else None
    for k in sorted(vols):
        if k != keep:
            call("Volume.destroy", sr=sr, key=k)
    if keep:
        t.collect(sr)
        eq("the last volume is one node again", 1, t.depth(sr, keep))
        verify(sr, vols, keep)
    print("seed %d, %d operations: %s; %d volumes, deepest chain %d" %
          (seed, ops, " ".join("%s=%d" % kv for kv in sorted(counts.items())), len(vols), deepest))


if __name__ == "__main__":
    path, ops = os.path.realpath(sys.argv[1]), int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    main(lambda: run(path, ops, seed))
