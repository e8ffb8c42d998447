#!/bin/bash
# Randomised write / zero / discard sequences at unaligned offsets through
# `lvqcow img`, against a plain byte-array model: after each sequence the
# engine, qemu-img convert and the model agree and qemu-img check is clean.
# Deterministic per seed (printed); LQ_SEEDS overrides the seed list.
source "$LQ_TOP/tests/lib.sh"

cat >rnd.py <<'PY'
import json, os, random, subprocess, sys

lq, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
cs = rng.choice([512, 4096, 65536])
compat = rng.choice(["0.10", "1.1"])
rb = 16 if compat == "0.10" else rng.choice([1, 2, 8, 16, 64])
backing = rng.random() < 0.5
vsize = rng.choice([2 << 20, (3 << 20) + 1536, 1 << 20])
img = "r%d.qcow2" % seed
print("seed %d: cluster %d compat %s refcount_bits %d backing %s vsize %d"
      % (seed, cs, compat, rb, backing, vsize), flush=True)

def run(*args, data=None):
    p = subprocess.run([lq, "img"] + [str(a) for a in args], input=data,
                       capture_output=True)
    if p.returncode:
        sys.exit("lvqcow img %s failed: %s" % (args[0], p.stderr.decode()))
    return p.stdout

model = bytearray(vsize)
bsize = 0
opts = ["--cluster-size", cs, "--compat", compat, "--refcount-bits", rb]
if os.path.exists(img):
    os.unlink(img)
if backing:
    bsize = rng.choice([vsize, vsize // 2 + 512, vsize - 4096])
    base = "b%d.qcow2" % seed
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    "cluster_size=%d" % rng.choice([512, 65536]), base, str(bsize)], check=True)
    bdata = rng.randbytes(bsize)
    for off in range(0, bsize, 4096):
        if rng.random() < 0.6:
            n = min(4096, bsize - off)
            model[off:off + n] = bdata[off:off + n]
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0 0 %d" % bsize, base],
                   check=True, capture_output=True)
    raw = "b%d.raw" % seed
    with open(raw, "wb") as f:
        f.write(bytes(model[:bsize]))
    subprocess.run(["qemu-img", "convert", "-q", "-n", "-f", "raw", "-O", "qcow2", raw, base],
                   check=True)
    opts += ["-b", base, "-F", "qcow2"]
run("create", *opts, img, vsize)

def rand_range():
    r = rng.random()
    if r < 0.2:  # whole clusters
        c0 = rng.randrange(vsize // cs)
        n = rng.randint(1, min(8, vsize // cs - c0))
        return c0 * cs, n * cs
    off = rng.randrange(vsize)
    ln = rng.choice([1, rng.randint(1, 600), rng.randint(1, 3 * cs), rng.randint(1, 200000)])
    return off, max(1, min(ln, vsize - off))

def covered_clusters(off, ln):
    """Whole clusters (the last one counts whole up to vsize) in range."""
    first = -(-off // cs)
    c = first
    while c * cs < vsize:
        end = min((c + 1) * cs, vsize)
        if end > off + ln:
            break
        yield c * cs, end
        c += 1

def check(tag):
    got = run("read", img, 0, vsize)
    assert len(model) == vsize
    if len(got) != vsize:
        sys.exit("%s: engine read %d bytes, not %d" % (tag, len(got), vsize))
    if got != bytes(model):
        bad = next(i for i in range(vsize) if got[i] != model[i])
        sys.exit("%s: engine read differs from the model at %d" % (tag, bad))
    subprocess.run(["qemu-img", "convert", "-O", "raw", img, "q.raw"], check=True)
    with open("q.raw", "rb") as f:
        if f.read() != bytes(model):
            sys.exit("%s: qemu-img convert differs from the model" % tag)
    p = subprocess.run(["qemu-img", "check", img], capture_output=True)
    if p.returncode:
        sys.exit("%s: qemu-img check: %s" % (tag, p.stdout.decode()))

nops = int(os.environ.get("LQ_OPS", "60"))
for i in range(nops):
    op = rng.choices(["write", "zero", "zero-unmap", "discard"], [6, 2, 1, 2])[0]
    off, ln = rand_range()
    if op == "write":
        data = rng.randbytes(ln)
        run("write", img, off, data=data)
        model[off:off + ln] = data
    elif op.startswith("zero"):
        run("zero", *(["--unmap"] if op == "zero-unmap" else []), img, off, ln)
        model[off:off + ln] = bytes(ln)
    else:
        run("discard", img, off, ln)
        for a, b in covered_clusters(off, ln):
            if not (compat == "0.10" and backing and a < bsize):
                model[a:b] = bytes(b - a)
    if (i + 1) % 20 == 0:
        check("seed %d op %d (%s %d+%d)" % (seed, i, op, off, ln))
check("seed %d end" % seed)
print("seed %d: %d ops ok" % (seed, nops))
PY

for seed in ${LQ_SEEDS:-1 2 3 4 5 6}; do
	python3 rnd.py "$LQ_BIN" "$seed" || die "seed $seed"
done
