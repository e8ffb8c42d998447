# SPDX-License-Identifier: LGPL-2.1-or-later
"""nbd_ops: deterministic scattered-write workloads for the NBD tests.

    nbd_ops.py qemu-io SEED COUNT SIZE MODEL DIR
        prints qemu-io commands (one per line) writing random data, byte
        patterns and zeros at scattered, unaligned offsets within SIZE,
        applies the same changes to the raw MODEL file, and leaves the
        data files the commands read in DIR.
    nbd_ops.py sparse SEED COUNT SIZE OUT
        writes a sparse raw file of SIZE with random data at scattered
        offsets (holes in between), the source of an nbdcopy upload.
    nbd_ops.py mapcmp NBDINFO_JSON QEMU_IMG_MAP_JSON
        compares the zero/non-zero view of nbdinfo --map --json with
        qemu-img map --output=json; exits 1 on the first difference.
"""
import json
import os
import random
import sys


def scattered(rng, size, maxlen):
    off = rng.randrange(0, size - 1)
    length = rng.randint(1, min(maxlen, size - off))
    return off, length


def qemu_io(seed, count, size, model, outdir):
    rng = random.Random(seed)
    with open(model, "r+b") as m:
        for i in range(count):
            off, length = scattered(rng, size, 1 << 20)
            kind = rng.choice(["data", "data", "fua", "pattern", "zero", "unmap"])
            if kind in ("data", "fua"):
                path = os.path.join(outdir, "w%d.bin" % i)
                data = rng.randbytes(length)
                with open(path, "wb") as f:
                    f.write(data)
                flag = "-f " if kind == "fua" else ""
                print("write %s-s %s %d %d" % (flag, path, off, length))
            elif kind == "pattern":
                p = rng.randrange(1, 256)
                data = bytes([p]) * length
                print("write -P %d %d %d" % (p, off, length))
            else:
                data = bytes(length)
                print("write -z %s%d %d" % ("-u " if kind == "unmap" else "", off, length))
            m.seek(off)
            m.write(data)


def sparse(seed, count, size, out):
    rng = random.Random(seed)
    with open(out, "wb") as f:
        f.truncate(size)
        for _ in range(count):
            off, length = scattered(rng, size, 2 << 20)
            f.seek(off)
            f.write(rng.randbytes(length))


def load_map(path, nbdinfo):
    """Returns sorted (start, end, zero) runs."""
    runs = []
    for e in json.load(open(path)):
        if nbdinfo:
            start, length, zero = e["offset"], e["length"], bool(e["type"] & 2)
        else:
            start, length, zero = e["start"], e["length"], e["zero"]
        runs.append((start, start + length, zero))
    return sorted(runs)


def zero_at(runs, off):
    for s, e, z in runs:
        if s <= off < e:
            return z
    return None


def mapcmp(nbd_json, qemu_json):
    a, b = load_map(nbd_json, True), load_map(qemu_json, False)
    points = sorted({s for s, _, _ in a} | {s for s, _, _ in b})
    for p in points:
        za, zb = zero_at(a, p), zero_at(b, p)
        if za != zb:
            print("block status differs at %d: nbd zero=%s, qemu-img zero=%s" % (p, za, zb))
            sys.exit(1)
    if a[-1][1] != b[-1][1]:
        print("maps end at %d (nbd) and %d (qemu-img)" % (a[-1][1], b[-1][1]))
        sys.exit(1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "qemu-io":
        qemu_io(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif cmd == "sparse":
        sparse(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif cmd == "mapcmp":
        mapcmp(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
