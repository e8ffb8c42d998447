# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_qcow2: qcow2 byte-level helpers of the engine's shell tests.

    lq_qcow2.py corrupt-cases IMAGE SEED COUNT HEADER
        writes one corrupted copy of IMAGE per case into cases/ and prints
        "file offset bit" per case: one bit flipped in L1 and L2 entries,
        the refcount table and a refcount block (offsets computed from the
        image), in every header field when HEADER is 1, plus COUNT random
        flips inside the metadata (deterministic for SEED).
    lq_qcow2.py fault-points TRACE SAMPLES
        from a LVQCOW_FAULT_TRACE log, prints the fault point numbers to
        kill at (the first point of every name and SAMPLES spread over
        the run), one a line; the names go to stderr.
    lq_qcow2.py old-or-new GOT OLD NEW UNIT
        exits 1 unless every UNIT-byte region of the raw file GOT equals
        the same region of OLD or of NEW (GOT may be longer: resize).
    lq_qcow2.py be-field IMAGE OFFSET SIZE
        prints the big-endian unsigned field as a decimal.
    lq_qcow2.py poke-be IMAGE OFFSET SIZE VALUE
        writes a big-endian field in place.
    lq_qcow2.py flip-bit IMAGE OFFSET BIT
        inverts one bit of one byte (past the end: of a zero byte).
    lq_qcow2.py leak-cluster IMAGE
        appends one cluster and gives it refcount 1 in its refcount block
        (which must exist), making a leak qemu-img also reports.
    lq_qcow2.py ext-area IMAGE CASE
        rewrites the header extension area of the v3 IMAGE (and its
        backing name) as CASE: end-len, truncated, no-end-backing, fill,
        dup-feature-table or many (see ext_case).
    lq_qcow2.py check-json < CHECK_JSON
        prints a checker's JSON report with sorted keys and without the
        file name, so two checkers' reports compare as strings.
"""
import json
import os
import random
import sys

HEADER_V2 = [(0, 4), (4, 4), (8, 8), (16, 4), (20, 4), (24, 8), (32, 4), (36, 4), (40, 8),
             (48, 8), (56, 4), (60, 4), (64, 8)]
HEADER_V3 = [(72, 8), (80, 8), (88, 8), (96, 4), (100, 4)]


class Image:
    """The fields of a qcow2 image the corruption cases aim at."""

    def __init__(self, data):
        self.d = data
        self.v3 = self.be(4, 4) == 3
        self.cs = 1 << self.be(20, 4)
        self.l1_size, self.l1 = self.be(36, 4), self.be(40, 8)
        self.rt, self.rtc = self.be(48, 8), self.be(56, 4)
        l2s = [self.be(self.l1 + 8 * i, 8) & 0x00fffffffffffe00 for i in range(self.l1_size)]
        self.l2s = [x for x in l2s if x]
        rbs = [self.be(self.rt + 8 * i, 8) & ~0x1ff for i in range(self.rtc * self.cs // 8)]
        self.rbs = [x for x in rbs if x]
        # refcount entry width in bytes (v2: always 16 bits)
        self.width = 2 if not self.v3 else (1 << self.be(96, 4)) // 8 or 1

    def be(self, off, n):
        return int.from_bytes(self.d[off:off + n], "big")


def entry_bits(off, bits):
    """(offset, bit) of the given bits of the big-endian u64 at off."""
    return [(off + 7 - b // 8, b % 8) for b in bits]


def header_flips(img):
    out = []
    for o, n in HEADER_V2 + (HEADER_V3 if img.v3 else []):
        out += [(o + n - 1, 0), (o + (n - 1) // 2, 5)]   # low bit of the last byte, a high bit
    return out


def table_flips(img):
    out = entry_bits(img.l1, [0, 9, 22, 40, 56, 63])
    for t in img.l2s[:1]:
        out += entry_bits(t, [0, 1, 9, 30, 50, 62, 63])
        out += entry_bits(t + 8 * 5, [9, 63])
    out += entry_bits(img.rt, [0, 9, 30])
    w = img.width
    for rb in img.rbs[:1]:
        for k in [0, img.l1 // img.cs, rb // img.cs] + [t // img.cs for t in img.l2s[:1]]:
            for b in (0, 8 * w - 1):
                out.append((rb + w * k + w - 1 - b // 8, b % 8))
    return out


def random_flips(img, seed, count):
    meta = [0, img.l1 // img.cs * img.cs, img.rt] + img.l2s + img.rbs
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        base = rng.choice(meta)
        out.append((base + rng.randrange(img.cs), rng.randrange(8)))
    return out


def corrupt_cases(path, seed, count, header):
    with open(path, "rb") as f:
        d = f.read()
    img = Image(d)
    flips = (header_flips(img) if header == "1" else []) + table_flips(img)
    flips += random_flips(img, int(seed), int(count))
    os.makedirs("cases", exist_ok=True)
    for i, (o, b) in enumerate(flips):
        copy = bytearray(d)
        if o >= len(copy):
            copy += bytes(o + 1 - len(copy))
        copy[o] ^= 1 << b
        name = "cases/%s-%03d.qcow2" % (os.path.basename(path), i)
        with open(name, "wb") as f:
            f.write(copy)
        print(name, o, b)


def fault_points(trace, samples):
    with open(trace) as f:
        pts = [line.split(":", 1) for line in f if line.startswith("fault point ")]
    names = {}
    for num, name in pts:
        names.setdefault(name.strip(), int(num.split()[2]))
    n, k = len(pts), int(samples)
    pick = set(names.values())
    pick.update(1 + i * (n - 1) // max(k - 1, 1) for i in range(k) if n)
    print("\n".join(str(p) for p in sorted(pick)))
    print("names: " + " ".join(sorted(names)), file=sys.stderr)


def old_or_new(got_path, old_path, new_path, unit):
    got, old, new = (open(p, "rb").read() for p in (got_path, old_path, new_path))
    u = int(unit)
    for o in range(0, max(len(old), len(new)), u):
        g = got[o:o + u]
        if g != old[o:o + u] and g != new[o:o + u]:
            sys.exit("region at %d: neither old nor new" % o)


def be_field(path, off, size):
    with open(path, "rb") as f:
        f.seek(int(off))
        print(int.from_bytes(f.read(int(size)), "big"))


def poke_be(path, off, size, value):
    with open(path, "r+b") as f:
        f.seek(int(off))
        f.write(int(value).to_bytes(int(size), "big"))


def flip_bit(path, off, bit):
    o = int(off)
    with open(path, "r+b") as f:
        f.seek(o)
        b = f.read(1)
        b = b[0] if b else 0
        f.seek(o)
        f.write(bytes([b ^ (1 << int(bit))]))


def leak_cluster(path):
    """Append one cluster and give it refcount 1 in its refcount block
    (which must exist): a leak qemu-img reports too."""
    with open(path, "r+b") as f:
        h = f.read(104)
        be = lambda a, b: int.from_bytes(h[a:b], "big")  # noqa: E731
        cs = 1 << be(20, 24)
        order = be(96, 100) if be(4, 8) == 3 else 4
        f.seek(0, 2)
        end = -(-f.tell() // cs) * cs
        f.truncate(end + cs)
        k = end // cs
        per = cs * 8 >> order
        assert order >= 3
        f.seek(be(48, 56) + 8 * (k // per))
        rb = int.from_bytes(f.read(8), "big") & ~0x1ff
        assert rb, "no refcount block for the new cluster"
        w = (1 << order) // 8
        f.seek(rb + w * (k % per))
        f.write((1).to_bytes(w, "big"))


EXT_BACKING_FMT, EXT_FEATURE_TABLE, EXT_OTHER = 0xe2792aca, 0x6803f857, 0x12345678


def ext(kind, payload=b"", length=None):
    """One extension: head, payload, padding (length may lie)."""
    n = len(payload) if length is None else length
    return kind.to_bytes(4, "big") + n.to_bytes(4, "big") + payload + bytes(-len(payload) % 8)


def ext_case(case, room):
    """(area bytes, gap before the backing name or None for no name)."""
    if case == "end-len":        # an end marker whose length runs past the cluster
        return ext(0, length=0xffffffff), None
    if case == "truncated":      # 4 bytes left before the name: no room for a head
        return ext(EXT_OTHER, b"12345678"), 4
    if case == "no-end-backing":  # the name right after the last extension
        return ext(EXT_BACKING_FMT, b"qcow2"), 0
    if case == "fill":           # one extension up to the cluster's last byte
        return ext(EXT_OTHER, bytes(room - 8)), None
    if case == "dup-feature-table":
        return ext(EXT_FEATURE_TABLE) * 2 + ext(0), None
    if case == "many":           # as many different extensions as fit
        return b"".join(ext(0x10000000 + i) for i in range(room // 8 - 1)) + ext(0), None
    raise SystemExit("unknown case " + case)


def ext_area(path, case):
    name = b"base.qcow2"
    with open(path, "r+b") as f:
        head = f.read(104)
        cs, hl = 1 << int.from_bytes(head[20:24], "big"), int.from_bytes(head[100:104], "big")
        area, gap = ext_case(case, cs - hl)
        f.seek(hl)
        f.write(area + bytes(cs - hl - len(area)))
        off = hl + len(area) + (gap or 0)
        f.seek(8)
        f.write((off if gap is not None else 0).to_bytes(8, "big"))
        f.write((len(name) if gap is not None else 0).to_bytes(4, "big"))
        if gap is not None:
            f.seek(off)
            f.write(name)


def check_json():
    d = json.load(sys.stdin)
    d.pop("filename", None)
    print(json.dumps(d, sort_keys=True))


COMMANDS = {"corrupt-cases": corrupt_cases, "fault-points": fault_points, "old-or-new": old_or_new,
            "be-field": be_field, "poke-be": poke_be, "flip-bit": flip_bit,
            "leak-cluster": leak_cluster, "ext-area": ext_area, "check-json": check_json}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
