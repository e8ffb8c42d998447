#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""gclive.py: what a running guest and xapi see while the tree changes
under them (driven by bench/gc.sh; results in docs/bench-gc.md).

    gclive.py ROOT SCRATCH SCENARIOS

ROOT is a `make install DESTDIR=ROOT` tree: every call runs as
xapi-storage-script runs it (one process per call, JSON on stdin), the
collector is ROOT's `lvqcow gc`, the NBD servers are the ones
Datapath.attach starts.  SCRATCH holds the SR.  SCENARIOS, any of:

  s  live snapshot: a client does 4 KiB writes and reads in turn (queue
     depth 1) through NBD to an attached volume; SNAPS snapshots are taken,
     each after a quiet window of the same client;
  w  final switch of a live non-leaf coalesce: chain base <- mid <- leaf
     under an attached volume, mid hidden with one child; `lvqcow gc
     --once` merges mid with base while the client runs, SWITCHES times;
  l  the same for a live leaf coalesce (base <- leaf, the leaf attached):
     skipped, with a message, when `lvqcow gc --once` leaves the chain as
     deep as it was (the collector does not coalesce attached leaves);
  v  Volume.create while the collector coalesces a detached leaf with its
     parent, each holding SIZE bytes of data, against Volume.create alone
     and against Volume.create while `cp` + `sync -d` copies the parent's
     image (the same bytes through the same disk, without lvqcow).

Request latency is measured per request (send to reply); a request
overlapping a call's window counts for that call, one entirely inside a
quiet window counts for the baseline.  With one request in flight, the
longest request overlapping a call is the longest stall the guest saw.

Environment: BENCH_SIZE (bytes, for v; default 1 GiB), BENCH_SNAPS (10),
BENCH_SWITCHES (5), BENCH_CREATES (20: per phase of v), BENCH_QUIET
(seconds of each quiet window, 0.5), BENCH_SWITCH_MIB (data written into
each new mid node of w and l, 64).
"""
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "mock"))
import nbd_raw  # noqa: E402
from lqdoc import area_records, KIND_NODE, KIND_VOLUME  # noqa: E402

MIB = 1 << 20
SIZE = int(os.environ.get("BENCH_SIZE", str(1 << 30)))
SNAPS = int(os.environ.get("BENCH_SNAPS", "10"))
SWITCHES = int(os.environ.get("BENCH_SWITCHES", "5"))
CREATES = int(os.environ.get("BENCH_CREATES", "20"))
QUIET = float(os.environ.get("BENCH_QUIET", "0.5"))
SWITCH_MIB = int(os.environ.get("BENCH_SWITCH_MIB", "64"))
FLUSH_MODES = [int(x) for x in os.environ.get("BENCH_FLUSH_EVERY", "0 64").split()]
LIVE_SIZE = 1 << 30          # the attached volume of s, w and l
CLIENT_SPAN = 256 * MIB      # where the client does its I/O
BULK_AT = 512 * MIB          # where w and l write each new node's data
TARGET_MS = 50


class CallFailed(Exception):
    pass


def ms(sec):
    return 1000.0 * sec


def note(msg):
    print("# " + msg, file=sys.stderr, flush=True)


class Install:
    """The installed plugin, datapath and CLI; one spawned process per call."""

    def __init__(self, root, log):
        xss = os.path.join(root, "usr", "libexec", "xapi-storage-script")
        self.volume = os.path.join(xss, "volume", "org.xen.xapi.storage.fileqcow")
        self.datapath = os.path.join(xss, "datapath", "lvqcow")
        self.lq = os.path.join(root, "usr", "bin", "lvqcow")
        self.log = log

    def call(self, method, plugin=None, **params):
        """(result, wall seconds): spawn to reap, as xapi-storage-script."""
        params.setdefault("dbg", "bench-gc")
        script = os.path.join(plugin or self.volume, method)
        with open(self.log, "ab") as err:
            start = time.perf_counter()
            p = subprocess.run([script, "--json"], input=json.dumps(params).encode(),
                               stdout=subprocess.PIPE, stderr=err)
            wall = time.perf_counter() - start
        if p.returncode:
            raise CallFailed("%s: exit %d: %s" % (method, p.returncode, p.stdout[:300]))
        return json.loads(p.stdout), wall

    def dp(self, method, uri):
        return self.call(method, plugin=self.datapath, uri=uri, domain="0")[0]

    def gc(self, sr, *args):
        """`lvqcow gc ARGS SR`: (stderr, wall seconds)."""
        start = time.perf_counter()
        p = subprocess.run([self.lq, "gc"] + list(args) + [sr], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        if p.returncode:
            raise CallFailed("lvqcow gc: exit %d: %s" % (p.returncode, p.stderr[-500:]))
        return p.stderr, wall


class Sr:
    def __init__(self, inst, path):
        self.i = inst
        self.path = path
        os.makedirs(path)
        cfg, _ = inst.call("SR.create", uuid=str(uuid.uuid4()), configuration={"path": path},
                           name="bench-gc", description="live figures")
        self.sr, _ = inst.call("SR.attach", configuration=cfg)

    def create(self, name, size):
        return self.i.call("Volume.create", sr=self.sr, name=name, description="",
                           size=size, sharable=False)

    def snapshot_away(self, key):
        """A snapshot at once destroyed: the leaf becomes a hidden node
        with one child (a coalesce for the collector)."""
        s, _ = self.i.call("Volume.snapshot", sr=self.sr, key=key)
        self.i.call("Volume.destroy", sr=self.sr, key=s["key"])

    def _records(self):
        meta = os.path.join(self.path, "lvqcow-sr.meta")
        nodes = {n.getAttribute("uuid"): n for n in area_records(meta, KIND_NODE)}
        vols = {v.getAttribute("key"): v for v in area_records(meta, KIND_VOLUME)}
        return nodes, vols

    def chain(self, key):
        """The node uuids from the volume's leaf up."""
        nodes, vols = self._records()
        out, cur = [], vols[key].getAttribute("node")
        while cur:
            out.append(cur)
            cur = nodes[cur].getAttribute("parent")
        return out

    def image(self, node):
        nodes, _ = self._records()
        return os.path.join(self.path, "images", nodes[node].getAttribute("image"))

    def leaf_image(self, key):
        return self.image(self.chain(key)[0])


class Attached:
    """A volume attached and activated; its NBD socket and export.  Every
    one still attached is detached when the bench ends (ATTACHED)."""

    def __init__(self, sr, name):
        self.sr = sr
        self.vol, _ = sr.create(name, LIVE_SIZE)
        self.uri = self.vol["uri"][0]
        be = sr.i.dp("Datapath.attach", self.uri)
        ATTACHED.append(self)
        nbd = [i[1]["uri"] for i in be["implementations"] if i[0] == "Nbd"][0]
        self.sock, self.export = nbd.split(":", 2)[2].split(":exportname=")
        sr.i.dp("Datapath.activate", self.uri)

    def bulk(self, off, nbytes, tag):
        """Write nbytes at off in 1 MiB requests on a connection of its own."""
        c = nbd_raw.Client(self.sock, self.export)
        data = bytes([tag & 0xff]) * MIB
        for o in range(off, off + nbytes, MIB):
            c.pwrite(o, data)
        c.flush()
        c.close()

    def detach(self):
        ATTACHED.remove(self)
        self.sr.i.dp("Datapath.deactivate", self.uri)
        self.sr.i.dp("Datapath.detach", self.uri)


ATTACHED = []


def detach_all():
    """After a failure: no server may outlive the bench."""
    for vol in list(ATTACHED):
        try:
            vol.detach()
        except CallFailed as e:
            note("detach after a failure: %s" % e)


class Client(threading.Thread):
    """One guest: a 4 KiB write then a 4 KiB read, at random offsets,
    one request in flight, and a flush every flush_every requests (0:
    never); every request's (start, end) is kept."""

    def __init__(self, vol, flush_every):
        super().__init__(daemon=True)
        self.flush_every = flush_every
        self.c = nbd_raw.Client(vol.sock, vol.export)
        self.req = []
        self.stop = False
        self.error = None
        self.rng = random.Random(8)
        self.data = os.urandom(4096)

    def run(self):
        try:
            n = 0
            while not self.stop:
                self.one(self.c.pwrite, self.offset(), self.data)
                self.one(self.c.pread, self.offset(), 4096)
                n += 2
                if self.flush_every and n % self.flush_every == 0:
                    self.one(self.c.flush)
        except Exception as e:                # reported by the main thread
            self.error = e

    def offset(self):
        return self.rng.randrange(CLIENT_SPAN // 4096) * 4096

    def one(self, fn, *args):
        t0 = time.perf_counter()
        fn(*args)
        self.req.append((t0, time.perf_counter()))

    def finish(self):
        self.stop = True
        self.join(60)
        if self.error:
            raise CallFailed("client: %s" % self.error)
        self.c.close()

    def during(self, a, b):
        """Latencies of the requests overlapping [a, b]."""
        return [e - s for s, e in list(self.req) if s < b and e > a]

    def within(self, a, b):
        """Latencies of the requests entirely inside [a, b]."""
        return [e - s for s, e in list(self.req) if s >= a and e <= b]

    def quiet(self):
        """A window of QUIET seconds with nothing but the client."""
        a = time.perf_counter()
        time.sleep(QUIET)
        return self.within(a, time.perf_counter())


def ratio(a, b):
    return "%.1fx" % (a / b) if b > 0 else "-"


def latency_table(rows):
    """rows: (name, latencies during, latencies baseline)."""
    print("| %-34s | %8s | %9s | %9s | %10s | %9s |" %
          ("requests", "count", "median", "max", "median/x", "max/x"))
    print("|---|---|---|---|---|---|")
    for name, lat, base in rows:
        print("| %-34s | %8d | %6.2f ms | %6.1f ms | %10s | %9s |" %
              (name, len(lat), ms(statistics.median(lat)), ms(max(lat)),
               ratio(statistics.median(lat), statistics.median(base)),
               ratio(max(lat), max(base))))


def verdict(what, worst):
    print("\n%s: longest stall %.1f ms, target < %d ms: %s" %
          (what, ms(worst), TARGET_MS, "met" if ms(worst) < TARGET_MS else "NOT met"))


# ---- s: live snapshot ------------------------------------------------------

def client_name(flush_every):
    return ("a client that flushes every %d requests" % flush_every if flush_every
            else "a client that never flushes")


def bench_snapshot(sr, flush_every):
    vol = Attached(sr, "live snapshot")
    cl = Client(vol, flush_every)
    cl.start()
    time.sleep(QUIET)
    base, during, calls, stalls = [], [], [], []
    for i in range(SNAPS):
        base += cl.quiet()
        a = time.perf_counter()
        _, wall = sr.i.call("Volume.snapshot", sr=sr.sr, key=vol.vol["key"])
        b = time.perf_counter()
        time.sleep(0.05)                      # the request that waited has returned
        lat = cl.during(a, b)
        during += lat
        calls.append(wall)
        stalls.append(max(lat))
    base += cl.quiet()
    cl.finish()
    vol.detach()
    print("\n### (s) live snapshot, %s: %d Volume.snapshot of an attached volume\n"
          % (client_name(flush_every), SNAPS))
    print("Volume.snapshot call: median %.1f ms, max %.1f ms; longest request per snapshot: "
          "median %.1f ms, max %.1f ms\n" % (ms(statistics.median(calls)), ms(max(calls)),
                                            ms(statistics.median(stalls)), ms(max(stalls))))
    latency_table([("during the snapshot calls", during, base),
                   ("no snapshot (quiet windows)", base, base)])
    verdict("live snapshot, " + client_name(flush_every), max(stalls))


# ---- w and l: the switch of a live coalesce ---------------------------------

STEP_RE = re.compile(r"coalescing node (\S+) with its parent (\S+?)(?:, the leaf of volume (\S+))?$", re.M)
DIR_RE = re.compile(r"up would copy (\d+) bytes, down (\d+): (\w+)")
STREAM_RE = re.compile(r"stream done, (\d+) bytes copied by its server")
PAUSE_RE = re.compile(r"moved: pause (\d+) ms.*resumed after (\d+) ms")


def one_switch(sr, vol, cl, want_leaf):
    """Quiet window, then `lvqcow gc --once`: a result row, or None when
    the collector did not shorten the chain."""
    depth = len(sr.chain(vol.vol["key"]))
    base = cl.quiet()
    a = time.perf_counter()
    err, wall = sr.i.gc(sr.sr, "--once")
    b = time.perf_counter()
    time.sleep(0.05)
    after = len(sr.chain(vol.vol["key"]))
    if after != depth - 1:
        return None
    if "warning" in err:
        raise CallFailed("lvqcow gc warned: %s" % err)
    step, how = STEP_RE.search(err), DIR_RE.search(err)
    leaf = bool(step and step.group(3))
    if leaf != want_leaf:
        note("gc --once coalesced a %s node where a %s was expected" %
             ("leaf" if leaf else "non-leaf", "leaf" if want_leaf else "non-leaf"))
    lat = cl.during(a, b)
    d = how.group(3) if how else "?"
    copied = int(how.group(1) if d == "up" else how.group(2)) if how else 0
    streamed = STREAM_RE.search(err)
    if streamed:
        d, copied = "down (by the server)", int(streamed.group(1))
    paused = PAUSE_RE.search(err)
    return {"wall": wall, "lat": lat, "base": base, "worst": max(lat), "dir": d, "bytes": copied,
            "paused": int(paused.group(2)) if paused else None}


def rebuild(sr, vol, depth, tag, kept):
    """New data, then snapshots taken and destroyed until the volume's
    chain is `depth` deep again (each a node with one child).  For a
    non-leaf switch (depth 3) the last snapshot is kept (and dropped
    before the next rebuild): its node, the leaf's parent, then has two
    referents, so the leaf is not a candidate and the collector takes the
    non-leaf pair below it."""
    while kept:
        sr.i.call("Volume.destroy", sr=sr.sr, key=kept.pop())
    while len(sr.chain(vol.vol["key"])) < depth:
        vol.bulk(BULK_AT + (tag % 4) * SWITCH_MIB * MIB, SWITCH_MIB * MIB, tag)
        if depth > 2 and len(sr.chain(vol.vol["key"])) == depth - 1:
            s, _ = sr.i.call("Volume.snapshot", sr=sr.sr, key=vol.vol["key"])
            kept.append(s["key"])
        else:
            sr.snapshot_away(vol.vol["key"])
        tag += 1
    return tag


def switch_rows(sr, vol, cl, depth, want_leaf):
    rows, tag, kept = [], 1, []
    done = True
    for _ in range(SWITCHES):
        tag = rebuild(sr, vol, depth, tag, kept)
        r = one_switch(sr, vol, cl, want_leaf)
        if r is None:
            done = False
            break
        rows.append(r)
    for key in kept:
        sr.i.call("Volume.destroy", sr=sr.sr, key=key)
    return rows, done


def print_switch(title, rows, flush_every):
    print("\n### %s; %s\n" % (title, client_name(flush_every)))
    print("| run | direction | copied | gc --once | server paused | longest request | "
          "median during | median quiet | longest/median quiet |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, r in enumerate(rows):
        print("| %d | %s | %d MiB | %.0f ms | %s | %.1f ms | %.2f ms | %.2f ms | %s |" %
              (k + 1, r["dir"], r["bytes"] // MIB, ms(r["wall"]),
               "%d ms" % r["paused"] if r["paused"] is not None else "?", ms(r["worst"]),
               ms(statistics.median(r["lat"])), ms(statistics.median(r["base"])),
               ratio(r["worst"], statistics.median(r["base"]))))
    lat = [x for r in rows for x in r["lat"]]
    base = [x for r in rows for x in r["base"]]
    print()
    latency_table([("during gc --once (copy and switch)", lat, base),
                   ("no collector (quiet windows)", base, base)])


def bench_switch(sr, scen, flush_every):
    vol = Attached(sr, "live coalesce")
    vol.bulk(BULK_AT, SWITCH_MIB * MIB, 0xa0)
    cl = Client(vol, flush_every)
    cl.start()
    time.sleep(QUIET)
    try:
        if "w" in scen:
            rows, done = switch_rows(sr, vol, cl, 3, False)
            if not done:
                raise CallFailed("w: `lvqcow gc --once` did not shorten base <- mid <- leaf")
            print_switch("(w) final switch of a live non-leaf coalesce: base <- mid <- leaf, "
                         "the leaf attached, %d MiB new in mid each run" % SWITCH_MIB, rows, flush_every)
            verdict("non-leaf coalesce under an attached volume (whole gc --once)",
                    max(r["worst"] for r in rows))
        if "l" in scen:
            rows, done = switch_rows(sr, vol, cl, 2, True)
            if not done and not rows:
                print("\n### (l) live leaf coalesce: skipped: `lvqcow gc --once` left the chain "
                      "base <- leaf of an attached volume at depth 2 (it does not coalesce an "
                      "attached leaf)")
            else:
                if not done:
                    print("\n(l): `lvqcow gc --once` stopped coalescing the attached leaf after "
                          "%d runs" % len(rows))
                print_switch("(l) final switch of a live leaf coalesce: base <- leaf, the leaf "
                             "attached, %d MiB new in the leaf each run" % SWITCH_MIB, rows, flush_every)
                verdict("leaf coalesce of an attached volume (whole gc --once)",
                        max(r["worst"] for r in rows))
    finally:
        cl.finish()
        vol.detach()


# ---- v: Volume.create while a coalesce runs ---------------------------------

def qemu_fill(image, off, nbytes, pattern):
    cmds = []
    for o in range(off, off + nbytes, 1 << 30):
        cmds += ["-c", "write -P %d %d %d" % (pattern, o, min(1 << 30, off + nbytes - o))]
    subprocess.run(["qemu-io", "-f", "qcow2"] + cmds + [image], check=True, stdout=subprocess.DEVNULL)


def creates(sr, n, tag, alive=None):
    out = []
    for k in range(n if alive is None else 1 << 30):
        if alive is not None and not alive():
            break
        _, wall = sr.create("bench create %s %d" % (tag, k), 10 << 30)
        out.append(wall)
    return out


DROPPED = False


def drop_caches():
    """sync, then drop the page cache when this host lets us (DROPPED)."""
    global DROPPED
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        DROPPED = True
    except OSError:
        DROPPED = False


def under(sr, argv, tag, stderr=subprocess.DEVNULL):
    """Volume.create in a loop while argv runs, from a cold page cache:
    (latencies, argv's wall seconds)."""
    drop_caches()
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
    time.sleep(0.05)                          # let it reach its copy
    lat = creates(sr, 0, tag, alive=lambda: p.poll() is None)
    if p.wait():
        raise CallFailed("%s: exit %d" % (" ".join(argv), p.returncode))
    return lat, time.perf_counter() - start


def bench_create(sr):
    w, _ = sr.create("coalesced", 2 * SIZE)
    note("v: writing %d MiB into a volume, snapshot, %d MiB more" % (SIZE // MIB, SIZE // MIB))
    qemu_fill(sr.leaf_image(w["key"]), 0, SIZE, 1)
    s, _ = sr.i.call("Volume.snapshot", sr=sr.sr, key=w["key"])
    qemu_fill(sr.leaf_image(w["key"]), SIZE, SIZE, 2)
    sr.i.call("Volume.destroy", sr=sr.sr, key=s["key"])
    base = creates(sr, CREATES // 2, "before")
    copy = os.path.join(os.path.dirname(sr.path), "parent.copy")
    cp_lat, cp_wall = under(sr, ["sh", "-c", 'cp "$0" "$1" && sync -d "$1"',
                                 sr.image(sr.chain(w["key"])[1]), copy], "cp")
    os.unlink(copy)
    log = open(os.path.join(os.path.dirname(sr.path), "gc-v.log"), "w+")
    during, gc_wall = under(sr, [sr.i.lq, "gc", sr.sr], "during", stderr=log)
    base += creates(sr, CREATES - CREATES // 2, "after")
    log.seek(0)
    err = log.read()
    how = DIR_RE.search(err)
    if len(sr.chain(w["key"])) != 1:
        raise CallFailed("v: the collector did not coalesce: %s" % err[-500:])
    print("\n### (v) Volume.create while `lvqcow gc` coalesces a detached leaf of %d MiB over a "
          "parent of %d MiB\n" % (SIZE // MIB, SIZE // MIB))
    print("collector: %s, %.1f s; cp + sync -d of the parent's image: %.1f s; page cache "
          "dropped before each: %s\n" % (how.group(0) if how else "?", gc_wall, cp_wall,
                                         "yes" if DROPPED else "no"))
    if len(during) < 3:
        print("only %d Volume.create calls fitted in the coalesce: raise BENCH_SIZE\n" % len(during))
    print("| %-30s | %5s | %9s | %9s | %8s | %8s |" %
          ("Volume.create", "calls", "median", "max", "median/x", "max/x"))
    print("|---|---|---|---|---|---|")
    for name, lat in (("during the coalesce", during), ("during cp + sync of the parent", cp_lat),
                      ("no coalesce (before, after)", base)):
        if lat:
            print("| %-30s | %5d | %6.1f ms | %6.1f ms | %8s | %8s |" %
                  (name, len(lat), ms(statistics.median(lat)), ms(max(lat)),
                   ratio(statistics.median(lat), statistics.median(base)), ratio(max(lat), max(base))))


def main():
    root, scratch, scen = sys.argv[1], sys.argv[2], sys.argv[3]
    os.environ["LVQCOW_GC_AUTO"] = "0"        # the bench starts every collector itself
    inst = Install(root, os.path.join(scratch, "calls.log"))
    print("\nlive figures: calls and servers installed under %s; SR on %s; load %s; the client "
          "does a 4 KiB write then a 4 KiB read, at random in its first %d MiB, one request in "
          "flight" % (root, subprocess.run(["df", "--output=fstype", scratch], stdout=subprocess.PIPE,
                                           text=True).stdout.split()[-1],
                      " ".join(open("/proc/loadavg").read().split()[:3]), CLIENT_SPAN // MIB))
    try:
        run(inst, scratch, scen)
    finally:
        detach_all()


def run(inst, scratch, scen):
    # one SR each: a collector run of one scenario finds no work of another
    for k, f in enumerate(FLUSH_MODES):
        if "s" in scen:
            bench_snapshot(Sr(inst, os.path.join(scratch, "sr-s%d" % k)), f)
    for k, f in enumerate(FLUSH_MODES):
        if "w" in scen or "l" in scen:
            bench_switch(Sr(inst, os.path.join(scratch, "sr-w%d" % k)), scen, f)
    if "v" in scen:
        bench_create(Sr(inst, os.path.join(scratch, "sr-v")))


if __name__ == "__main__":
    main()
