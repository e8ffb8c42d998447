# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_qcow2_random: a randomised write / zero / discard workload through
`lvqcow img` against a plain byte-array model.

    lq_qcow2_random.py LVQCOW SEED
        creates r<SEED>.qcow2 (cluster size, compat, refcount width,
        backing file and virtual size chosen from SEED), runs $LQ_OPS
        (default 60) operations at unaligned offsets, and every 20
        operations and at the end checks that the engine's read, qemu-img
        convert and the model agree and that qemu-img check is clean.
        Exits non-zero with the first difference.
"""
import os
import random
import subprocess
import sys


class Workload:
    def __init__(self, lq, seed):
        self.lq, self.seed = lq, seed
        rng = self.rng = random.Random(seed)
        self.cs = rng.choice([512, 4096, 65536])
        self.compat = rng.choice(["0.10", "1.1"])
        self.rb = 16 if self.compat == "0.10" else rng.choice([1, 2, 8, 16, 64])
        self.backing = rng.random() < 0.5
        self.vsize = rng.choice([2 << 20, (3 << 20) + 1536, 1 << 20])
        self.img = "r%d.qcow2" % seed
        self.model = bytearray(self.vsize)
        self.bsize = 0
        print("seed %d: cluster %d compat %s refcount_bits %d backing %s vsize %d"
              % (seed, self.cs, self.compat, self.rb, self.backing, self.vsize), flush=True)

    def run(self, *args, data=None):
        p = subprocess.run([self.lq, "img"] + [str(a) for a in args], input=data,
                           capture_output=True)
        if p.returncode:
            sys.exit("lvqcow img %s failed: %s" % (args[0], p.stderr.decode()))
        return p.stdout

    def make_backing(self):
        """A backing file whose content, where written, the model holds."""
        rng, seed = self.rng, self.seed
        self.bsize = bsize = rng.choice([self.vsize, self.vsize // 2 + 512, self.vsize - 4096])
        base = "b%d.qcow2" % seed
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                        "cluster_size=%d" % rng.choice([512, 65536]), base, str(bsize)], check=True)
        bdata = rng.randbytes(bsize)
        for off in range(0, bsize, 4096):
            if rng.random() < 0.6:
                n = min(4096, bsize - off)
                self.model[off:off + n] = bdata[off:off + n]
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0 0 %d" % bsize, base],
                       check=True, capture_output=True)
        raw = "b%d.raw" % seed
        with open(raw, "wb") as f:
            f.write(bytes(self.model[:bsize]))
        subprocess.run(["qemu-img", "convert", "-q", "-n", "-f", "raw", "-O", "qcow2", raw, base],
                       check=True)
        return ["-b", base, "-F", "qcow2"]

    def create(self):
        opts = ["--cluster-size", self.cs, "--compat", self.compat, "--refcount-bits", self.rb]
        if os.path.exists(self.img):
            os.unlink(self.img)
        if self.backing:
            opts += self.make_backing()
        self.run("create", *opts, self.img, self.vsize)

    def rand_range(self):
        rng, cs, vsize = self.rng, self.cs, self.vsize
        r = rng.random()
        if r < 0.2:  # whole clusters
            c0 = rng.randrange(vsize // cs)
            n = rng.randint(1, min(8, vsize // cs - c0))
            return c0 * cs, n * cs
        off = rng.randrange(vsize)
        ln = rng.choice([1, rng.randint(1, 600), rng.randint(1, 3 * cs), rng.randint(1, 200000)])
        return off, max(1, min(ln, vsize - off))

    def covered_clusters(self, off, ln):
        """Whole clusters (the last one counts whole up to vsize) in range."""
        cs, vsize = self.cs, self.vsize
        c = -(-off // cs)
        while c * cs < vsize:
            end = min((c + 1) * cs, vsize)
            if end > off + ln:
                break
            yield c * cs, end
            c += 1

    def check(self, tag):
        vsize, model = self.vsize, self.model
        got = self.run("read", self.img, 0, vsize)
        assert len(model) == vsize
        if len(got) != vsize:
            sys.exit("%s: engine read %d bytes, not %d" % (tag, len(got), vsize))
        if got != bytes(model):
            bad = next(i for i in range(vsize) if got[i] != model[i])
            sys.exit("%s: engine read differs from the model at %d" % (tag, bad))
        subprocess.run(["qemu-img", "convert", "-O", "raw", self.img, "q.raw"], check=True)
        with open("q.raw", "rb") as f:
            if f.read() != bytes(model):
                sys.exit("%s: qemu-img convert differs from the model" % tag)
        p = subprocess.run(["qemu-img", "check", self.img], capture_output=True)
        if p.returncode:
            sys.exit("%s: qemu-img check: %s" % (tag, p.stdout.decode()))

    def step(self):
        rng, model = self.rng, self.model
        op = rng.choices(["write", "zero", "zero-unmap", "discard"], [6, 2, 1, 2])[0]
        off, ln = self.rand_range()
        if op == "write":
            data = rng.randbytes(ln)
            self.run("write", self.img, off, data=data)
            model[off:off + ln] = data
        elif op.startswith("zero"):
            self.run("zero", *(["--unmap"] if op == "zero-unmap" else []), self.img, off, ln)
            model[off:off + ln] = bytes(ln)
        else:
            self.run("discard", self.img, off, ln)
            for a, b in self.covered_clusters(off, ln):
                # v2 has no zero clusters: a discard shows the backing file again
                if not (self.compat == "0.10" and self.backing and a < self.bsize):
                    model[a:b] = bytes(b - a)
        return op, off, ln


def main(lq, seed):
    w = Workload(lq, int(seed))
    w.create()
    nops = int(os.environ.get("LQ_OPS", "60"))
    for i in range(nops):
        op, off, ln = w.step()
        if (i + 1) % 20 == 0:
            w.check("seed %d op %d (%s %d+%d)" % (w.seed, i, op, off, ln))
    w.check("seed %d end" % w.seed)
    print("seed %d: %d ops ok" % (w.seed, nops))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
