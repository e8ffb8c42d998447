# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_tree_crash: fault injection for snapshot, clone, resize, destroy and the
garbage collector.  Each operation is killed (SIGKILL through
LVQCOW_FAULT_AT) at every fault point it reaches, in turn; then the SR is
re-attached (journal replay, orphan sweep) and the collector run to the
end, and every volume must read as before the operation or as the
finished operation gives, every image must be clean for qemu-img check
(no leaked cluster either),
the metadata must pass SR.attach's check, and no node may be left that
nothing uses.

    lq_tree_crash.py DIR [OPS...]    OPS: snapshot clone resize destroy gc-up gc-down
Prints the number of points exercised per operation, then OK.
"""
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402
import xss  # noqa: E402

MIB = t.MIB
PLUGIN = os.path.join(os.environ["LQ_XSS_ROOT"], "volume",
                      "org.xen.xapi.storage." + os.environ.get("LQ_SR_TYPE", "fileqcow"))


def killed_call(n, method, **params):
    """The call, killed at its n-th fault point (True), or run to the end."""
    env = dict(os.environ, LVQCOW_FAULT_AT=str(n))
    p = subprocess.run([xss.find_script(PLUGIN, method), "--json"], env=env,
                       input=xss.json.dumps(dict(params, dbg="crash")).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode == -9


def killed_call_at(point, method, **params):
    """The call, killed at the fault point of that name (True)."""
    env = dict(os.environ, LVQCOW_FAULT=point)
    p = subprocess.run([xss.find_script(PLUGIN, method), "--json"], env=env,
                       input=xss.json.dumps(dict(params, dbg="crash")).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode == -9


def killed_gc(n, sr, direction):
    env = dict(os.environ, LVQCOW_FAULT_AT=str(n), LVQCOW_GC_DIRECTION=direction)
    p = subprocess.run(t.GC + [sr], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return p.returncode == -9


def until_done(hint):
    """1, 2, ... until the caller breaks on a run no point killed (the
    number of points varies a little: a commit writes one block per
    changed index bucket, and random uuids may share buckets)."""
    i = 0
    while True:
        i += 1
        check("a run ends unkilled by point %d" % (2 * hint + 20), i <= 2 * hint + 20)
        yield i


def points(argv, stdin=None, **env):
    p = subprocess.run(argv, input=stdin, capture_output=True,
                       env=dict(os.environ, LVQCOW_FAULT_TRACE="1", **env))
    eq("traced run of %s" % argv[-1], 0, p.returncode)
    return p.stderr.decode().count("fault point ")


def call_points(method, **params):
    return points([xss.find_script(PLUGIN, method), "--json"],
                  xss.json.dumps(dict(params, dbg="trace")).encode())


def recover(sr):
    t.reattach(sr)
    t.collect(sr)
    t.check_images(sr)  # the replay frees what a killed copy or grow leaked


def base_volume(sr):
    v = call("Volume.create", sr=sr, name="v", description="", size=4 * MIB, sharable=False)
    for i in range(3):
        t.write(sr, v["key"], i * MIB, t.pattern(i, 96 * 1024))
    return v["key"]


def volumes(sr):
    return {v["key"]: v for v in call("SR.ls", sr=sr)}


def tree_op(sr, method):
    """Snapshot or clone killed at every point."""
    key = base_volume(sr)
    want = t.content(sr, key)
    n = call_points(method, sr=sr, key=key)
    call("Volume.destroy", sr=sr, key=[k for k in volumes(sr) if k != key][0])
    for i in until_done(n):
        before = set(volumes(sr))
        killed = killed_call(i, method, sr=sr, key=key)
        recover(sr)
        new = set(volumes(sr)) - before
        check("%s at %d: old or new" % (method, i), len(new) <= 1, new)
        eq("%s at %d: volume" % (method, i), want, t.content(sr, key))
        for k in new:
            eq("%s at %d: result" % (method, i), want, t.content(sr, k))
            call("Volume.destroy", sr=sr, key=k)
        if not killed:
            break
    t.collect(sr)
    call("Volume.destroy", sr=sr, key=key)
    return i - 1


def resize(sr):
    key = base_volume(sr)
    want = t.content(sr, key, 4 * MIB)
    size = 4 * MIB
    n = call_points("Volume.resize", sr=sr, key=key, new_size=size + MIB)
    size += MIB
    for i in until_done(n):
        killed = killed_call(i, "Volume.resize", sr=sr, key=key, new_size=size + MIB)
        recover(sr)
        got = volumes(sr)[key]["virtual_size"]
        check("resize at %d: old or new size" % i, got in (size, size + MIB), got)
        size = got
        eq("resize at %d: data kept" % i, want, t.content(sr, key, 4 * MIB))
        eq("resize at %d: image size agrees" % i, size, image_size(sr, key))
        if not killed:
            break
    call("Volume.destroy", sr=sr, key=key)
    return i - 1


def image_size(sr, key):
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", t.leaf_image(sr, key)],
                         check=True, stdout=subprocess.PIPE).stdout
    return xss.json.loads(out)["virtual-size"]


def destroy_scenario(sr):
    """V (written after) on S's node on nothing: destroying S leaves its
    node to V's chain; destroying V removes V's leaf only."""
    key = base_volume(sr)
    snap = call("Volume.snapshot", sr=sr, key=key)["key"]
    t.write(sr, key, MIB, t.pattern(9, 64 * 1024))
    return key, snap


def destroy(sr):
    """Volume.destroy of a snapshot and of a writable leaf in a tree,
    killed at every point: the destroyed volume is there and whole, or
    gone; the other reads as before; nothing is left over."""
    key, snap = destroy_scenario(sr)
    n = call_points("Volume.destroy", sr=sr, key=snap)
    call("Volume.destroy", sr=sr, key=key)
    total = 0
    for target in (0, 1):
        for i in until_done(n):
            vols = destroy_scenario(sr)
            gone, kept = vols[target], vols[1 - target]
            want_gone, want_kept = t.content(sr, gone), t.content(sr, kept)
            killed = killed_call(i, "Volume.destroy", sr=sr, key=gone)
            recover(sr)
            left = volumes(sr)
            eq("destroy at %d: the other volume" % i, want_kept, t.content(sr, kept))
            if gone in left:
                check("destroy at %d: not finished only when killed" % i, killed)
                eq("destroy at %d: the volume, not destroyed" % i, want_gone, t.content(sr, gone))
                call("Volume.destroy", sr=sr, key=gone)
            call("Volume.destroy", sr=sr, key=kept)
            eq("destroy at %d: no node left" % i, 0, len(t.nodes(sr)))
            if not killed:
                break
        total += i - 1
    return total


def gc_scenario(sr):
    """V on C on B on A: S2 reads B; S1 (on A) is gone, so B+A is a
    non-leaf pair; destroying S2 later makes C+B a leaf pair."""
    key = base_volume(sr)
    s1 = call("Volume.snapshot", sr=sr, key=key)["key"]
    t.write(sr, key, 0, t.pattern(7, 64 * 1024))
    s2 = call("Volume.snapshot", sr=sr, key=key)["key"]
    t.write(sr, key, 3 * MIB, t.pattern(8, 64 * 1024))
    call("Volume.destroy", sr=sr, key=s1)
    call("Volume.destroy", sr=sr, key=s2)
    return key


def gc_dir(sr, direction):
    key = gc_scenario(sr)
    want = t.content(sr, key)
    n = points(t.GC + [sr], LVQCOW_GC_DIRECTION=direction)
    eq("traced collector", 1, t.depth(sr, key))
    call("Volume.destroy", sr=sr, key=key)
    for i in until_done(n):
        key = gc_scenario(sr)
        killed = killed_gc(i, sr, direction)
        recover(sr)
        eq("gc (%s) at %d: depth" % (direction, i), 1, t.depth(sr, key))
        eq("gc (%s) at %d: content" % (direction, i), want, t.content(sr, key))
        call("Volume.destroy", sr=sr, key=key)
        if not killed:
            break
    return i - 1


def run(path, ops):
    os.environ["LVQCOW_GC_AUTO"] = "0"
    # Metadata commits are killed at each of their points by
    # test-crash-points; here the points of these operations themselves
    # (LVQCOW_TREE_CRASH_FULL=1: all points, every commit's too).
    if os.environ.get("LVQCOW_TREE_CRASH_FULL") != "1":
        os.environ["LVQCOW_FAULT_SKIP"] = "meta-commit."
    sr = t.new_sr(path)
    total = 0
    for op in ops:
        if op in ("snapshot", "clone"):
            n = tree_op(sr, "Volume." + op)
        elif op == "resize":
            n = resize(sr)
        elif op == "destroy":
            n = destroy(sr)
        else:
            n = gc_dir(sr, op.split("-")[1])
        print("%s: %d fault points exercised" % (op, n))
        total += n
    eq("SR empty again", [], list(volumes(sr)))
    print("total: %d fault points exercised" % total)


if __name__ == "__main__":
    path = os.path.realpath(sys.argv[1])
    ops = sys.argv[2:] or ["snapshot", "clone", "resize", "destroy", "gc-up", "gc-down"]
    main(lambda: run(path, ops))
