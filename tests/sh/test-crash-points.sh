#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault injection: each multi-step operation is killed (SIGKILL, through
# LVQCOW_FAULT) at every named point between its steps.  Afterwards the SR
# must load, show either the old or the new state, and after a re-attach
# (which sweeps orphans) hold exactly one clean image per node.
source "$LQ_TOP/tests/lib.sh"

mkdir sr
python3 - "$(realpath sr)" <<'PY'
import json, os, subprocess, sys, uuid, xml.dom.minidom
sys.path.insert(0, os.path.join(os.environ["LQ_TOP"], "tests", "mock"))
from lqtest import call, error, eq, check, main, area_records
import xss

sr = sys.argv[1]

def crash(point, method, **params):
    if point:
        os.environ["LVQCOW_FAULT"] = point
    try:
        params["dbg"] = "crash"
        xss.call(xss.os.path.join(os.environ["LQ_XSS_ROOT"], "volume", "org.xen.xapi.storage.fileqcow"), method, params)
        raise AssertionError("%s at %s: not killed" % (method, point))
    except xss.XapiError as e:
        eq("%s at %s" % (method, point), ["signalled", "9"], [e.code == "SCRIPT_FAILED" and e.params[1], e.params[2]])
    finally:
        os.environ.pop("LVQCOW_FAULT", None)

def consistent(cfg):
    """Re-attach (sweeps orphans), then one clean image per node."""
    call("SR.detach", sr=sr)
    call("SR.attach", configuration=cfg)
    vols = call("SR.ls", sr=sr)
    nodes = area_records(sr + "/lvqcow-sr.meta", 3)
    images = sorted(os.listdir(sr + "/images"))
    eq("one image per node", sorted(n.getAttribute("image") for n in nodes), images)
    for img in images:
        subprocess.run(["qemu-img", "check", "-q", sr + "/images/" + img], check=True)
    return {v["key"]: v for v in vols}

COMMIT_POINTS = ("meta-commit.wal-data-written", "meta-commit.wal-written", "meta-commit.wal-synced",
                 "meta-commit.home-written", "meta-commit.applied")

def points_of(method, **params):
    """How many fault points one call reaches."""
    script = xss.find_script(os.path.join(os.environ["LQ_XSS_ROOT"], "volume",
                                          "org.xen.xapi.storage.fileqcow"), method)
    p = subprocess.run([script, "--json"], input=json.dumps(params).encode(), capture_output=True,
                       env=dict(os.environ, LVQCOW_FAULT_TRACE="1"))
    eq("%s traced: exit" % method, 0, p.returncode)
    return p.stderr.decode().count("fault point ")

def crash_at(n, method, **params):
    os.environ["LVQCOW_FAULT_AT"] = str(n)
    try:
        crash(None, method, **params)
    finally:
        del os.environ["LVQCOW_FAULT_AT"]

def every_point(cfg, key):
    mk = dict(sr=sr, name="p", description="", size=1 << 20, sharable=False)
    scratch = call("Volume.create", **mk)
    before = set(consistent(cfg))
    n_create = points_of("Volume.create", dbg="t", **mk)
    for k in set(consistent(cfg)) - before:
        call("Volume.destroy", sr=sr, key=k)
    n_set = points_of("Volume.set", dbg="t", sr=sr, key=key, k="b", v="x")
    n_destroy = points_of("Volume.destroy", dbg="t", sr=sr, key=scratch["key"])
    check("points counted", n_create >= 6 and n_set >= 5 and n_destroy >= 5, (n_create, n_set, n_destroy))
    for n in range(1, n_create + 1):
        before = set(consistent(cfg))
        crash_at(n, "Volume.create", **mk)
        after = consistent(cfg)
        check("create killed at point %d: old or new" % n,
              set(after) == before or (len(after) == len(before) + 1 and before < set(after)))
        for k in set(after) - before:
            eq("create killed at point %d: whole" % n, "p", after[k]["name"])
            call("Volume.destroy", sr=sr, key=k)
    for n in range(1, n_set + 1):
        call("Volume.set", sr=sr, key=key, k="b", v="old")
        crash_at(n, "Volume.set", sr=sr, key=key, k="b", v="new")
        check("set killed at point %d: old or new" % n,
              consistent(cfg)[key]["keys"]["b"] in ("old", "new"))
    for n in range(1, n_destroy + 1):
        v = call("Volume.create", **mk)
        crash_at(n, "Volume.destroy", sr=sr, key=v["key"])
        if v["key"] in consistent(cfg):
            call("Volume.destroy", sr=sr, key=v["key"])

def test():
    u = str(uuid.uuid4())
    # SR.create killed between the layout and the document: no SR, and a
    # new SR.create at the same place works.
    crash("sr-create.prepared", "SR.create", uuid=u, configuration={"path": sr}, name="n", description="")
    eq("no SR yet", "SR_does_not_exist", error("SR.attach", configuration={"path": sr})[0])
    cfg = call("SR.create", uuid=u, configuration={"path": sr}, name="n", description="")
    call("SR.attach", configuration=cfg)
    keep = call("Volume.create", sr=sr, name="keep", description="", size=1 << 20, sharable=False)

    # Volume.create killed after the image: old state.  Killed inside the
    # metadata commit once the log is written: the next open replays it
    # (the kernel still holds the log), so the new state, whole.
    crash("volume-create.image-written", "Volume.create", sr=sr, name="lost", description="", size=1 << 20, sharable=False)
    eq("create at image-written: old state", [keep["key"]], list(consistent(cfg)))
    for point in COMMIT_POINTS:
        crash(point, "Volume.create", sr=sr, name="new", description="", size=1 << 20, sharable=False)
        vols = consistent(cfg)
        if point == "meta-commit.wal-data-written":
            eq("create at %s: old state" % point, [keep["key"]], list(vols))
            continue
        eq("create at %s: new state" % point, 2, len(vols))
        new = [k for k in vols if k != keep["key"]][0]
        eq("create at %s: new volume whole" % point, "new", vols[new]["name"])
        call("Volume.destroy", sr=sr, key=new)

    # Volume.set killed during the commit: the new value, never a mix.
    for i, point in enumerate(COMMIT_POINTS):
        call("Volume.set", sr=sr, key=keep["key"], k="a", v="old")
        crash(point, "Volume.set", sr=sr, key=keep["key"], k="a", v="new%d" % i)
        want = "old" if point == "meta-commit.wal-data-written" else "new%d" % i
        eq("set at %s" % point, want, consistent(cfg)[keep["key"]]["keys"]["a"])

    # Volume.destroy killed before its commit (old state) and after it
    # (new state, the image left for the sweep).
    gone = call("Volume.create", sr=sr, name="gone", description="", size=1 << 20, sharable=False)
    for point in COMMIT_POINTS:
        g = call("Volume.create", sr=sr, name="g", description="", size=1 << 20, sharable=False)
        crash(point, "Volume.destroy", sr=sr, key=g["key"])
        kept = point == "meta-commit.wal-data-written"
        eq("destroy at %s" % point, kept, g["key"] in consistent(cfg))
        if kept:
            call("Volume.destroy", sr=sr, key=g["key"])
    crash("volume-destroy.committed", "Volume.destroy", sr=sr, key=gone["key"])
    eq("destroy after commit: gone", [keep["key"]], list(consistent(cfg)))

    # Every point each call reaches, counted (each home block write is a
    # point of its own): killed at any of them, the SR holds the old or
    # the new state, whole.
    every_point(cfg, keep["key"])

    # SR.destroy killed after the document went: the SR is gone and the
    # leftovers do not stop a new SR.create there.
    call("Volume.destroy", sr=sr, key=keep["key"])
    crash("sr-destroy.document-removed", "SR.destroy", sr=sr)
    eq("destroyed", "SR_does_not_exist", error("SR.stat", sr=sr)[0])
    call("SR.detach", sr=sr)
    cfg = call("SR.create", uuid=str(uuid.uuid4()), configuration={"path": sr}, name="again", description="")
    call("SR.attach", configuration=cfg)
    eq("new SR empty", [], call("SR.ls", sr=sr))

main(test)
PY
