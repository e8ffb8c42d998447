# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_live_switch: a non-leaf coalesce under an attached volume, in both
directions, while the volume is being written through NBD.  The chain is
base <- mid <- leaf (base and mid hidden; mid is base's only child and
also a kept snapshot's node, so the leaf is not a candidate);
`lvqcow gc --once` merges mid with base.  Down makes mid the root, so its
header must lose its backing name before the server is moved onto the
new chain.  Then:
  - the collector warns of nothing (the server was moved);
  - the chain is one shorter, and the server holds no removed image open
    (it reads the new chain, so the space is given back at once);
  - every acknowledged write reads back through the server, and the data
    under the snapshots does too.

    lq_live_switch.py DIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
import lq_live as live  # noqa: E402
import nbd_raw as n  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402

SPAN = 1 << 20
SPANS_AT = 32 << 20                   # past the writer's blocks


def attach(sr, name):
    v = call("Volume.create", sr=sr, name=name, description="", size=64 * t.MIB, sharable=False)
    be = live.dp("Datapath.attach", uri=v["uri"][0], domain="0")
    nbd = [i[1]["uri"] for i in be["implementations"] if i[0] == "Nbd"][0]
    sock, export = nbd.split(":", 2)[2].split(":exportname=")
    live.dp("Datapath.activate", uri=v["uri"][0], domain="0")
    return v, sock, export


def snapshot_away(sr, key):
    """A snapshot at once destroyed: the leaf becomes a hidden node with
    one child."""
    s = call("Volume.snapshot", sr=sr, key=key)
    call("Volume.destroy", sr=sr, key=s["key"])


def deleted_images_held(sock):
    pid = open(os.path.join(os.path.dirname(sock), "pid")).read().strip()
    fds = "/proc/%s/fd" % pid
    held = []
    for fd in os.listdir(fds):
        try:
            target = os.readlink(os.path.join(fds, fd))
        except OSError:
            continue
        if target.endswith(".qcow2 (deleted)"):
            held.append(target)
    return held


def one(path, direction):
    sr = t.new_sr(path)
    v, sock, export = attach(sr, direction)
    c = n.Client(sock, export)
    spans = {}
    for i in range(3):                        # base, mid and leaf each hold a span
        spans[i] = t.pattern(i, SPAN)
        c.pwrite(SPANS_AT + i * 4 * SPAN, spans[i])
        c.flush()
        if i == 0:
            snapshot_away(sr, v["key"])
        elif i == 1:
            # kept: mid is then also a snapshot's node, so the leaf pair
            # is not eligible and the collector takes base <- mid, where
            # the merged node becomes the chain's root
            call("Volume.snapshot", sr=sr, key=v["key"])
    eq("%s: chain base <- mid <- leaf" % direction, 3, t.depth(sr, v["key"]))
    w = live.Writer(sock, export)
    w.start()
    live.wait_for(w, 500)
    r = subprocess.run([t.LQ, "gc", "--once", sr], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, LVQCOW_GC_DIRECTION=direction), text=True)
    err = r.stderr
    eq("%s: gc --once status" % direction, 0, r.returncode)
    m = re.search(r"coalescing node (\S+) with its parent (\S+)", err)
    check("%s: a coalesce ran" % direction, m, err)
    gone = m.group(2) if direction == "down" else m.group(1)
    check("%s: %s removed" % (direction, gone), "removed node %s" % gone in err, err)
    check("%s: no warning from the collector" % direction, "warning" not in err, err)
    w.join(300)
    eq("%s: no write failed" % direction, None, w.error)
    eq("%s: one node shorter" % direction, 2, t.depth(sr, v["key"]))
    eq("%s: the server holds no removed image" % direction, [], deleted_images_held(sock))
    for i in range(3):
        check("%s: span %d reads back" % (direction, i), spans[i] == c.pread(SPANS_AT + i * 4 * SPAN, SPAN))
    for i in range(0, live.BLOCKS, 256):
        k = min(256, live.BLOCKS - i)
        data = c.pread(i * live.BLOCK, k * live.BLOCK)
        for j in range(k):
            check("%s: block %d reads back" % (direction, i + j),
                  data[j * live.BLOCK:(j + 1) * live.BLOCK] == live.block(i + j))
    c.sock.close()
    live.dp("Datapath.deactivate", uri=v["uri"][0], domain="0")
    live.dp("Datapath.detach", uri=v["uri"][0], domain="0")
    t.check_images(sr)


if __name__ == "__main__":
    os.environ.setdefault("LVQCOW_GC_AUTO", "0")
    main(lambda: [one(os.path.realpath(sys.argv[1]) + "-" + d, d) for d in ("down", "up")])
