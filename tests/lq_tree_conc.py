# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_tree_conc: 8 clients at once snapshot, clone, set keys, write
(through the datapath: attach, activate, NBD writes, detach) and destroy
across one snapshot tree while collectors run, then every volume must
read as its model says, every image be clean, the metadata pass the
attach check, and the collector leave no node that nothing uses.

    lq_tree_conc.py DIR [OPS_PER_CLIENT]
"""
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
import nbd_raw as n  # noqa: E402
from lqtest import call, error, eq, check, main  # noqa: E402
import xss  # noqa: E402

SIZE = 4 * t.MIB
CLIENTS = 8
DATAPATH = os.path.join(os.environ["LQ_XSS_ROOT"], "datapath", "lvqcow")


class Model:
    """Each volume's expected content: the writes since an empty disk."""

    def __init__(self):
        self.lock = threading.Lock()
        self.vols = {}          # key -> (read_write, [(off, bytes)])
        self.busy = set()       # keys a client is using

    def take(self, rng, writable=None):
        with self.lock:
            keys = [k for k, (rw, _) in self.vols.items()
                    if k not in self.busy and (writable is None or rw == writable)]
            if not keys:
                return None
            k = rng.choice(sorted(keys))
            self.busy.add(k)
            return k

    def give(self, k):
        with self.lock:
            self.busy.discard(k)

    def expected(self, k):
        data = bytearray(SIZE)
        for off, d in self.vols[k][1]:
            data[off:off + len(d)] = d
        return bytes(data)


def nbd_write(v_uri, writes):
    be = xss.call(DATAPATH, "Datapath.attach", {"dbg": "c", "uri": v_uri, "domain": "0"})
    try:
        xss.call(DATAPATH, "Datapath.activate", {"dbg": "c", "uri": v_uri, "domain": "0"})
        nbd = [i[1]["uri"] for i in be["implementations"] if i[0] == "Nbd"][0]
        sock, export = nbd.split(":", 2)[2].split(":exportname=")
        c = n.Client(sock, export)
        for off, d in writes:
            c.pwrite(off, d)
        c.flush()
        c.close()
        xss.call(DATAPATH, "Datapath.deactivate", {"dbg": "c", "uri": v_uri, "domain": "0"})
    finally:
        xss.call(DATAPATH, "Datapath.detach", {"dbg": "c", "uri": v_uri, "domain": "0"})


def client(sr, m, seed, ops, errors):
    rng = random.Random(seed)
    try:
        for _ in range(ops):
            op = rng.choice(["snapshot", "clone", "set", "write", "write", "destroy", "destroy"])
            k = m.take(rng, writable=True if op == "write" else None)
            if k is None:
                continue
            try:
                one(sr, m, rng, op, k)
            finally:
                m.give(k)
    except Exception as e:           # reported by the main thread
        errors.append("client %d: %r" % (seed, e))


def one(sr, m, rng, op, k):
    if op in ("snapshot", "clone"):
        try:
            r = call("Volume." + op, sr=sr, key=k)
        except xss.XapiError as e:       # the depth cap, until the collector catches up
            if e.code != "Invalid_argument" or "deep" not in str(e.params):
                raise
            return
        with m.lock:
            m.vols[r["key"]] = (op == "clone", list(m.vols[k][1]))
    elif op == "set":
        call("Volume.set", sr=sr, key=k, k="owner", v=str(rng.random()))
    elif op == "write":
        writes = [(rng.randrange(0, SIZE // 4096) * 4096, bytes([rng.randrange(1, 256)]) * 4096)
                  for _ in range(rng.randrange(1, 6))]
        nbd_write(call("Volume.stat", sr=sr, key=k)["uri"][0], writes)
        with m.lock:
            m.vols[k][1].extend(writes)
    elif len(m.vols) > 4:
        call("Volume.destroy", sr=sr, key=k)
        with m.lock:
            del m.vols[k]


def collectors(sr, stop, errors, steps):
    while not stop.is_set():
        p = subprocess.run([t.LQ, "gc", sr], capture_output=True)
        if p.returncode != 0:
            errors.append("gc: %s" % p.stderr.decode()[-500:])
        else:
            steps.append(int(p.stdout.split()[0]))
        time.sleep(0.05)


def verify(sr, m):
    raw = sr + "/../v.raw"
    for k in sorted(m.vols):
        subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", t.leaf_image(sr, k), raw], check=True)
        with open(raw, "rb") as f:
            check("volume %s reads as its model" % k, f.read() == m.expected(k))
    os.unlink(raw)


def run(path, ops):
    sr = t.new_sr(path)
    m = Model()
    for i in range(3):
        v = call("Volume.create", sr=sr, name="v%d" % i, description="", size=SIZE, sharable=False)
        m.vols[v["key"]] = (True, [])
    errors, stop, steps = [], threading.Event(), []
    gc = threading.Thread(target=collectors, args=(sr, stop, errors, steps))
    gc.start()
    workers = [threading.Thread(target=client, args=(sr, m, s, ops, errors)) for s in range(CLIENTS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(900)
    stop.set()
    gc.join(300)
    eq("no client or collector failed", [], errors)
    t.collect(sr)
    call("SR.detach", sr=sr)
    call("SR.attach", configuration={"path": sr})     # the full metadata check
    eq("volumes", sorted(m.vols), sorted(v["key"] for v in call("SR.ls", sr=sr)))
    verify(sr, m)
    t.check_images(sr)
    ns = t.nodes(sr)
    unused = [u for u, nd in ns.items() if nd.getAttribute("refs") == "0"]
    eq("no node left that nothing uses", [], unused)
    print("%d volumes, %d nodes after %d operations per client; the foreground collectors "
          "ran %d steps" % (len(m.vols), len(ns), ops, sum(steps)))
    left = subprocess.run([t.LQ, "gc", "--once", sr], check=True, stdout=subprocess.PIPE).stdout
    eq("nothing left for the collector", b"0 steps", left.strip())


if __name__ == "__main__":
    os.environ.setdefault("LVQCOW_GC_AUTO", "1")
    path = os.path.realpath(sys.argv[1])
    ops = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    main(lambda: run(path, ops))
