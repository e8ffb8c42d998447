# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_gc_leaks: clusters leaked by a killed coalesce copy or a killed
resize are freed by the journal replay.

A collector is killed at the first L2 table write of its copy (the
refcounts of the clusters it allocated are on disk, the table that
would reference them is not: a leak), in each direction, for a leaf pair
(the target going down is the writable leaf, not attached) and for a
non-leaf pair.  The leak must be there after the kill (else the test
proves nothing); after SR.detach/SR.attach (the replay) and a collector
run, every image must check clean for qemu-img (no leak either), every
volume read as before, and the journal be empty.  Volume.resize killed
before its new L1 table is switched in leaks that table; the replay
frees it too.  A leaf attached after the kill and before any replay is
never repaired while attached: the record waits for the detach.

    lq_gc_leaks.py DIR
Prints OK, or the first failure and exits 1.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
import lq_tree_crash as tc  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402
import xss  # noqa: E402

MIB = t.MIB
DATAPATH = os.path.join(os.environ["LQ_XSS_ROOT"], "datapath", "lvqcow")


def qcheck(path):
    return subprocess.run(["qemu-img", "check", "-U", "-q", path], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def leaked(sr):
    """The images qemu-img check finds leaks in (status 3); -U: a server
    may hold one."""
    d = os.path.join(sr, "images")
    return [i for i in sorted(os.listdir(d)) if qcheck(os.path.join(d, i)) == 3]


def journal(sr):
    out = subprocess.run([t.LQ, "gc", "--status", "--json", sr], check=True,
                         stdout=subprocess.PIPE).stdout
    return json.loads(out)["journal"]


def killed_gc(sr, direction, point):
    env = dict(os.environ, LVQCOW_FAULT=point, LVQCOW_GC_DIRECTION=direction)
    p = subprocess.run([t.LQ, "gc", sr], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return p.returncode == -9


def recovered(sr, what, want):
    """Replay (SR.attach), collect, then nothing leaks and data is kept."""
    call("SR.detach", sr=sr)
    call("SR.attach", configuration={"path": sr})
    t.collect(sr)
    t.check_images(sr)
    eq("%s: journal after the replay" % what, 0, journal(sr))
    for key, digest in want.items():
        eq("%s: content of %s" % (what, key), digest, t.content(sr, key))


def leaf_pair(sr):
    """V's leaf on C, C hidden and nothing else on it: a leaf pair."""
    key = tc.base_volume(sr)
    s = call("Volume.snapshot", sr=sr, key=key)["key"]
    t.write(sr, key, 2 * MIB, t.pattern(9, 256 * 1024))
    call("Volume.destroy", sr=sr, key=s)
    return key


def copy_killed(sr, scenario, direction):
    what = "%s, %s" % (scenario.__name__, direction)
    key = scenario(sr)
    want = {key: t.content(sr, key)}
    check("%s: the collector was killed" % what, killed_gc(sr, direction, "qcow2.l2-write"))
    check("%s: the kill leaked clusters" % what, leaked(sr) != [])
    check("%s: the copy is journaled" % what, journal(sr) >= 1)
    recovered(sr, what, want)
    eq("%s: depth" % what, 1, t.depth(sr, key))
    call("Volume.destroy", sr=sr, key=key)


def dp(method, **params):
    return xss.call(DATAPATH, method, dict(params, dbg="leaks"))


def attached_leaf(sr):
    """A copy down into a leaf killed, then the leaf attached before any
    replay: the replay leaves the leaf alone (its leak stays, the record
    too) until the volume is detached; the next replay frees it."""
    key = leaf_pair(sr)
    want = t.content(sr, key)
    check("attached: killed", killed_gc(sr, "down", "qcow2.l2-write"))
    leaf = os.path.basename(t.leaf_image(sr, key))
    check("attached: the leaf leaks", leaf in leaked(sr))
    uri = call("Volume.stat", sr=sr, key=key)["uri"][0]
    dp("Datapath.attach", uri=uri, domain="0")
    subprocess.run([t.LQ, "gc", sr], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    eq("attached: the record waits", 1, journal(sr))
    check("attached: the served leaf was not repaired", leaf in leaked(sr))
    dp("Datapath.detach", uri=uri, domain="0")
    subprocess.run([t.LQ, "gc", sr], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    eq("detached: journal", 0, journal(sr))
    t.check_images(sr)
    eq("detached: content", want, t.content(sr, key))
    call("Volume.destroy", sr=sr, key=key)


def resize_killed(sr):
    key = tc.base_volume(sr)
    want = {key: t.content(sr, key)}
    check("resize: killed", tc.killed_call_at("qcow2.resize.l1-switch", "Volume.resize", sr=sr,
                                               key=key, new_size=2048 * MIB))
    check("resize: the kill leaked the new L1 table", leaked(sr) != [])
    call("SR.detach", sr=sr)
    call("SR.attach", configuration={"path": sr})
    eq("resize: finished", 2048 * MIB, tc.volumes(sr)[key]["virtual_size"])
    t.check_images(sr)
    eq("resize: content", want[key], t.content(sr, key, 4 * MIB))
    call("Volume.destroy", sr=sr, key=key)


def run(path):
    os.environ["LVQCOW_GC_AUTO"] = "0"
    sr = t.new_sr(path)
    for direction in ("up", "down"):
        copy_killed(sr, leaf_pair, direction)
        copy_killed(sr, tc.gc_scenario, direction)
    resize_killed(sr)
    attached_leaf(sr)
    eq("SR empty again", [], list(tc.volumes(sr)))


if __name__ == "__main__":
    main(lambda: run(os.path.realpath(sys.argv[1])))
