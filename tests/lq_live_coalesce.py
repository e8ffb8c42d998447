# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_live_coalesce: the collector coalesces the leaf of a volume that is
attached and being written through NBD (its server streams the parent
into the leaf; docs/gc.md, "Live leaf coalesce").

A writer thread writes 4 KiB blocks at random places (each holding its
block number and a sequence number) and notes each acknowledgement.
The volume is snapshotted, the snapshot destroyed, and `lvqcow gc --once`
run while the writer goes on.  Then:
  - the chain is one node deep, and the writer was still writing after
    the collector returned (the coalesce did not wait for it);
  - no write failed; every block reads back its last acknowledged write,
    and blocks never written read the data written before the snapshot;
  - qemu-img check is clean on every image; the longest wait for one
    acknowledgement while the collector ran is printed.
Then the interruptions, each followed by a check of the same kind:
  - the collector killed while it polls the stream (the server finishes
    it; the next run switches);
  - the server killed in the middle of the stream (writes are FUA there,
    so every acknowledged one is on disk): re-attached, the next run
    streams again and switches;
  - the server paused for a while during the stream (it waits, then goes
    on); a snapshot taken during the stream (its reopen cancels the
    stream, nothing changes, the next run coalesces what is left);
    a detach during the stream (the stream stops with the server).

    lq_live_coalesce.py DIR
"""
import json
import os
import random
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
import nbd_raw as n  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402
import xss  # noqa: E402

BLOCK = 4096
SIZE = 128 * t.MIB
NBLOCKS = SIZE // BLOCK
PRE = (0, 40 * t.MIB), (64 * t.MIB, 24 * t.MIB)   # spans written before the snapshot
DATAPATH = os.path.join(os.environ["LQ_XSS_ROOT"], "datapath", "lvqcow")
LQ = os.environ.get("LQ_BIN", "lvqcow")


def dp(method, **params):
    return xss.call(DATAPATH, method, dict(params, dbg="live-coalesce"))


def pre_block(b):
    return struct.pack("<QQ", b, 0xfeed) * (BLOCK // 16)


def new_block(b, seq):
    return struct.pack("<QQ", b, seq) * (BLOCK // 16)


class Writer(threading.Thread):
    """Writes until stopped; expected[b] is the last acknowledged write."""

    def __init__(self, sock, export, seed, fua=False):
        super().__init__(daemon=True)
        self.client = n.Client(sock, export)
        self.rng = random.Random(seed)
        self.fua = fua
        self.expected = {}
        self.pending = None      # (block, seq) sent but not acknowledged
        self.waits = []          # (start, ack)
        self.stop = threading.Event()
        self.error = None

    def run(self):
        seq = 0
        try:
            while not self.stop.is_set():
                seq += 1
                b = self.rng.randrange(NBLOCKS)
                t0 = time.monotonic()
                self.pending = (b, seq)
                self.client.pwrite(b * BLOCK, new_block(b, seq), n.FLAG_FUA if self.fua else 0)
                self.waits.append((t0, time.monotonic()))
                self.expected[b] = seq
                self.pending = None
            self.client.flush()
        except Exception as e:           # reported by the main thread
            self.error = e

    def acked_between(self, a, z):
        return sum(1 for s, e in self.waits if a <= s and e <= z)

    def longest_wait(self, a, z):
        return max([e - s for s, e in self.waits if e >= a and s <= z] or [0])


ATTACHED = set()                     # detached at the end, even after a failure


def attach(uri, **env):
    ATTACHED.add(uri)
    old = dict(os.environ)
    os.environ.update(env)
    try:
        be = dp("Datapath.attach", uri=uri, domain="0")
    finally:
        os.environ.clear()
        os.environ.update(old)
    nbd = [i[1]["uri"] for i in be["implementations"] if i[0] == "Nbd"][0]
    return nbd.split(":", 2)[2].split(":exportname=")


def ctl(key, command):
    path = os.path.join(os.environ["LVQCOW_RUNDIR"], "nbd", key, "ctl")
    r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "lq_ctl.py"),
                        path, command], capture_output=True, text=True)
    return r.stdout.strip()


def gc(sr, *extra, **env):
    return subprocess.run([LQ, "gc", "--once", sr] + list(extra), capture_output=True, text=True,
                          env=dict(os.environ, **env))


def gc_background(sr):
    return subprocess.Popen([LQ, "gc", "--once", sr], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_streaming(key, timeout=30):
    """Until the server reports a stream (of any state but idle)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "stream=" in ctl(key, "stream-status") and "stream=idle" not in ctl(key, "stream-status"):
            return
        time.sleep(0.02)
    check("the server started a stream", False)


def fill_pre(sock, export):
    c = n.Client(sock, export)
    for off, length in PRE:
        for b in range(off // BLOCK, (off + length) // BLOCK, 256):
            c.pwrite(b * BLOCK, b"".join(pre_block(b + i) for i in range(256)))
    c.flush()
    c.close()


def expect(w, b):
    if w is not None and b in w.expected:
        return new_block(b, w.expected[b])
    if any(off <= b * BLOCK < off + length for off, length in PRE):
        return pre_block(b)
    return bytes(BLOCK)


def verify(name, sock, export, writers):
    """Every block: the last acknowledged write of any writer, else the
    data from before the snapshot, else zeros."""
    merged, maybe = {}, {}
    for w in writers:
        merged.update({b: (w, s) for b, s in w.expected.items()})
        for b in list(maybe):
            if b in w.expected:
                del maybe[b]
        if w.pending:                    # cut off by a crash: either content
            maybe[w.pending[0]] = new_block(*w.pending)
    c = n.Client(sock, export)
    step = 1024
    for b0 in range(0, NBLOCKS, step):
        data = c.pread(b0 * BLOCK, step * BLOCK)
        for i in range(step):
            b = b0 + i
            w = merged[b][0] if b in merged else None
            got = data[i * BLOCK:(i + 1) * BLOCK]
            if got != expect(w, b) and got != maybe.get(b):
                check("%s: block %d holds its last acknowledged write" % (name, b), False,
                      "got %r" % got[:16])
    c.close()
    print("%s: all %d blocks as expected (%d written live)" % (name, NBLOCKS, len(merged)))


def volume(sr, name):
    v = call("Volume.create", sr=sr, name=name, description="", size=SIZE, sharable=False)
    sock, export = attach(v["uri"][0])
    dp("Datapath.activate", uri=v["uri"][0], domain="0")
    fill_pre(sock, export)
    return v, sock, export


def snapshot_gone(sr, v):
    """A snapshot, then its destroy: the leaf's parent has refs 1."""
    s = call("Volume.snapshot", sr=sr, key=v["key"])
    eq("two nodes after the snapshot", 2, t.depth(sr, v["key"]))
    call("Volume.destroy", sr=sr, key=s["key"])


def start_writer(sock, export, seed, fua=False):
    w = Writer(sock, export, seed, fua)
    w.start()
    while len(w.waits) < 200 and w.is_alive():
        time.sleep(0.01)
    return w


def finish_writer(w, name):
    w.stop.set()
    w.join(60)
    check("%s: writer finished" % name, not w.is_alive())
    eq("%s: no write failed" % name, None, w.error)


def main_case(sr):
    v, sock, export = volume(sr, "main")
    w = start_writer(sock, export, 1)
    snapshot_gone(sr, v)
    b0 = time.monotonic()
    time.sleep(1)
    base = w.longest_wait(b0, time.monotonic())
    t0 = time.monotonic()
    r = gc(sr)
    t1 = time.monotonic()
    eq("gc --once succeeded (%s)" % r.stderr.strip()[-300:], 0, r.returncode)
    eq("one node while the writer runs", 1, t.depth(sr, v["key"]))
    print("".join(l + "\n" for l in r.stderr.splitlines() if "moved:" in l or "stream" in l))
    n_during = w.acked_between(t0, t1)
    time.sleep(0.3)
    check("the writer went on after the collector", w.is_alive() and w.acked_between(t1, 1e18) > 0)
    finish_writer(w, "main")
    check("writes acknowledged during the coalesce (%d)" % n_during, n_during > 0)
    print("coalesce took %.0f ms; %d writes acknowledged meanwhile; "
          "longest acknowledgement wait during the coalesce: %.1f ms "
          "(in the second before it: %.1f ms)" %
          (1000 * (t1 - t0), n_during, 1000 * w.longest_wait(t0, t1), 1000 * base))
    slow = [(s - t0, e - s) for s, e in w.waits if e >= t0 and s <= t1 and e - s > 0.02]
    print("acknowledgements slower than 20 ms during the coalesce (start after the "
          "collector's start, wait), in ms: %s" %
          ", ".join("%.0f+%.0f" % (1000 * a, 1000 * d) for a, d in slow[:20]))
    verify("main", sock, export, [w])
    return v, sock, export


def kill_collector(sr):
    v, sock, export = volume(sr, "kill-gc")
    w = start_writer(sock, export, 2)
    snapshot_gone(sr, v)
    r = gc(sr, LVQCOW_FAULT="gc-coalesce.streaming")
    check("collector killed while streaming", r.returncode != 0, r.returncode)
    eq("not switched yet", 2, t.depth(sr, v["key"]))
    r = gc(sr)
    eq("next gc succeeded (%s)" % r.stderr.strip()[-300:], 0, r.returncode)
    eq("kill-gc: one node", 1, t.depth(sr, v["key"]))
    finish_writer(w, "kill-gc")
    verify("kill-gc", sock, export, [w])
    return v


def kill_server(sr):
    v = call("Volume.create", sr=sr, name="kill-server", description="", size=SIZE,
             sharable=False)
    uri = v["uri"][0]
    sock, export = attach(uri, LVQCOW_FAULT="nbd-stream.chunk")
    dp("Datapath.activate", uri=uri, domain="0")
    fill_pre(sock, export)
    w = start_writer(sock, export, 3, fua=True)
    snapshot_gone(sr, v)
    r = gc(sr)
    w.join(60)
    check("the writer saw the server die", w.error is not None)
    eq("not switched", 2, t.depth(sr, v["key"]))
    print("server killed in the stream: gc said %r" % r.stderr.strip()[-200:])
    t.check_images(sr, leaks_ok=True)
    sock, export = attach(uri)                # a new server, no fault
    w2 = start_writer(sock, export, 4)
    r = gc(sr)
    eq("gc after the restart (%s)" % r.stderr.strip()[-300:], 0, r.returncode)
    eq("kill-server: one node", 1, t.depth(sr, v["key"]))
    finish_writer(w2, "kill-server")
    verify("kill-server", sock, export, [w, w2])
    return v


def paused_then_snapshot_then_detach(sr):
    v, sock, export = volume(sr, "interrupted")
    key, uri = v["key"], v["uri"][0]
    snapshot_gone(sr, v)
    # A pause holds the stream; on resume it goes on and the step ends.
    eq("pause", "ok paused", ctl(key, "pause"))
    p = gc_background(sr)
    wait_streaming(key)
    time.sleep(0.5)
    check("the stream waits while paused", "stream=running" in ctl(key, "stream-status"))
    st = json.loads(subprocess.run([LQ, "gc", "--status", "--json", sr], capture_output=True,
                                   text=True, check=True).stdout)
    check("gc --status shows the stream", st["running"] and
          st.get("last", {}).get("state") == "streaming" and
          st["last"].get("volume") == key, st)
    eq("resume", "ok running", ctl(key, "resume"))
    eq("gc after a pause", 0, p.wait(60))
    eq("paused: one node", 1, t.depth(sr, v["key"]))
    verify("paused", sock, export, [])
    # A snapshot during the stream: its reopen cancels it.
    snapshot_gone(sr, v)
    w = start_writer(sock, export, 5)
    eq("pause", "ok paused", ctl(key, "pause"))
    p = gc_background(sr)
    wait_streaming(key)
    s = call("Volume.snapshot", sr=sr, key=key)   # pauses, reopens, resumes
    eq("gc abandoned after the snapshot", 0, p.wait(60))
    check("stream cancelled by the reopen", "stream=cancelled" in ctl(key, "stream-status"),
          ctl(key, "stream-status"))
    eq("three nodes", 3, t.depth(sr, key))
    call("Volume.destroy", sr=sr, key=s["key"])
    for _ in range(3):
        eq("gc after the snapshot", 0, gc(sr).returncode)
    eq("snapshot: one node", 1, t.depth(sr, key))
    finish_writer(w, "snapshot")
    verify("snapshot", sock, export, [w])
    # A detach during the stream: the server stops and so does the stream.
    snapshot_gone(sr, v)
    eq("pause", "ok paused", ctl(key, "pause"))
    p = gc_background(sr)
    wait_streaming(key)
    dp("Datapath.detach", uri=uri, domain="0")     # no deactivate: it would resume
    eq("gc abandoned after the detach", 0, p.wait(60))
    eq("still two nodes", 2, t.depth(sr, key))
    eq("gc of the detached leaf", 0, gc(sr).returncode)
    eq("detached: one node", 1, t.depth(sr, key))
    sock, export = attach(uri)
    verify("detached", sock, export, [w])
    dp("Datapath.detach", uri=uri, domain="0")


def bad_commands(key):
    """Malformed or foreign stream requests are refused; nothing starts."""
    for cmd in ("stream", "stream \t", "stream a", "stream /etc/passwd\t/etc/shadow",
                "stream a\tb\tc"):
        r = ctl(key, cmd)
        check("%r refused" % cmd, r.startswith("error"), r)
    check("no stream started", "stream=idle" in ctl(key, "stream-status") or
          "stream=done" in ctl(key, "stream-status"), ctl(key, "stream-status"))


def detach_all():
    for uri in ATTACHED:
        try:
            dp("Datapath.detach", uri=uri, domain="0")
        except Exception as e:           # the test's own result matters more
            print("cleanup: detach %s: %s" % (uri, e))


def live(path):
    try:
        run(path)
    finally:
        detach_all()


def run(path):
    sr = t.new_sr(path)
    vols = [main_case(sr)[0], kill_collector(sr), kill_server(sr)]
    bad_commands(vols[0]["key"])
    paused_then_snapshot_then_detach(sr)
    for v in vols:
        dp("Datapath.deactivate", uri=v["uri"][0], domain="0")
        dp("Datapath.detach", uri=v["uri"][0], domain="0")
    t.check_images(sr, leaks_ok=True)


if __name__ == "__main__":
    os.environ.setdefault("LVQCOW_GC_AUTO", "0")
    main(lambda: live(os.path.realpath(sys.argv[1])))
