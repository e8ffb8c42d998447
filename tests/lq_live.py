# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_live: snapshot, clone and resize of a volume that is attached and
being written through NBD.  One writer writes 4 KiB blocks in order, each
holding its own number, and notes when each write was acknowledged;
meanwhile a snapshot, a clone and a resize are taken.  Then:
  - the volume holds every acknowledged write (nothing lost);
  - the snapshot (and the clone) hold every write acknowledged before
    the call started and none started after it returned;
  - no write failed, and the longest wait for one acknowledgement is
    printed (the stall a guest sees);
  - after detach, destroy and the collector, the volume still reads the
    same.

    lq_live.py DIR
"""
import os
import struct
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
import nbd_raw as n  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402
import xss  # noqa: E402

BLOCK = 4096
BLOCKS = 6000
DATAPATH = os.path.join(os.environ["LQ_XSS_ROOT"], "datapath", "lvqcow")


def dp(method, **params):
    return xss.call(DATAPATH, method, dict(params, dbg="live"))


def block(i):
    return struct.pack("<Q", i + 1) * (BLOCK // 8)


class Writer(threading.Thread):
    def __init__(self, sock, export):
        super().__init__()
        self.client = n.Client(sock, export)
        self.acked = [None] * BLOCKS     # time of each acknowledgement
        self.started = [None] * BLOCKS
        self.error = None

    def run(self):
        try:
            for i in range(BLOCKS):
                self.started[i] = time.monotonic()
                self.client.pwrite(i * BLOCK, block(i))
                self.acked[i] = time.monotonic()
            err, _ = self.client.command(n.CMD_FLUSH, 0, 0)
            if err:
                raise OSError(err, "flush failed")
        except Exception as e:           # reported by the main thread
            self.error = e

    def longest_wait(self):
        return max(a - s for a, s in zip(self.acked, self.started) if a)


def blocks_of(path):
    """The block numbers a raw image holds (0: never written)."""
    with open(path, "rb") as f:
        data = f.read(BLOCKS * BLOCK)
    return [struct.unpack_from("<Q", data, i * BLOCK)[0] for i in range(BLOCKS)]


def raw_of_volume(sr, key, out):
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", t.leaf_image(sr, key), out], check=True)
    return blocks_of(out)


def point_in_time(name, got, w, t0, t1):
    """Blocks acknowledged before t0 are there; blocks started after t1
    are not; each block is its own number or zero."""
    before = sum(1 for a in w.acked if a and a < t0)
    after = sum(1 for st in w.started if st and st > t1)
    check("%s: taken while writes went on (%d before, %d after)" % (name, before, after),
          before > 0 and after > 0)
    print("%s: %d blocks written before it, %d after, %.1f ms call" %
          (name, before, after, 1000 * (t1 - t0)))
    for i in range(BLOCKS):
        if w.acked[i] and w.acked[i] < t0:
            eq("%s: block %d written before" % (name, i), i + 1, got[i])
        elif w.started[i] and w.started[i] > t1:
            eq("%s: block %d written after" % (name, i), 0, got[i])
        else:
            check("%s: block %d whole" % (name, i), got[i] in (0, i + 1), got[i])


def wait_for(w, i):
    deadline = time.time() + 120
    while w.acked[i] is None and w.is_alive() and time.time() < deadline:
        time.sleep(0.01)
    check("writer reached block %d" % i, w.acked[i] is not None, w.error)


def live(path):
    sr = t.new_sr(path)
    v = call("Volume.create", sr=sr, name="live", description="", size=64 * t.MIB, sharable=False)
    uri = v["uri"][0]
    be = dp("Datapath.attach", uri=uri, domain="0")
    nbd = [i[1]["uri"] for i in be["implementations"] if i[0] == "Nbd"][0]
    sock, export = nbd.split(":", 2)[2].split(":exportname=")
    dp("Datapath.activate", uri=uri, domain="0")
    w = Writer(sock, export)
    w.start()
    taken = []
    for at, method in ((1000, "Volume.snapshot"), (2500, "Volume.clone"), (4000, "Volume.resize")):
        wait_for(w, at)
        t0 = time.monotonic()
        extra = {"new_size": 128 * t.MIB} if method == "Volume.resize" else {}
        r = call(method, sr=sr, key=v["key"], **extra)
        taken.append((method, r, t0, time.monotonic()))
    w.join(300)
    check("writer finished", not w.is_alive())
    eq("no write failed", None, w.error)
    print("longest wait for a write acknowledgement: %.1f ms" % (1000 * w.longest_wait()))
    eq("resized", 128 * t.MIB, call("Volume.stat", sr=sr, key=v["key"])["virtual_size"])

    # Everything acknowledged is in the volume, read through the server.
    c = n.Client(sock, export)
    for i in range(0, BLOCKS, 256):
        k = min(256, BLOCKS - i)
        data = c.pread(i * BLOCK, k * BLOCK)
        for j in range(k):
            check("volume block %d holds its write" % (i + j),
                  data[j * BLOCK:(j + 1) * BLOCK] == block(i + j))
    c.sock.close()
    for method, r, t0, t1 in taken[:2]:
        point_in_time(method, raw_of_volume(sr, r["key"], path + ".raw"), w, t0, t1)

    dp("Datapath.deactivate", uri=uri, domain="0")
    dp("Datapath.detach", uri=uri, domain="0")
    for method, r, _, _ in taken[:2]:
        call("Volume.destroy", sr=sr, key=r["key"])
    t.collect(sr)
    eq("one node again", 1, t.depth(sr, v["key"]))
    eq("volume after the collector", list(range(1, BLOCKS + 1)), raw_of_volume(sr, v["key"], path + ".raw"))
    t.check_images(sr)
    os.unlink(path + ".raw")


if __name__ == "__main__":
    os.environ.setdefault("LVQCOW_GC_AUTO", "0")
    main(lambda: live(os.path.realpath(sys.argv[1])))
