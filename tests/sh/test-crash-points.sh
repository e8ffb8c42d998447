#!/bin/bash
# Fault injection: each multi-step operation is killed (SIGKILL, through
# LVQCOW_FAULT) at every named point between its steps.  Afterwards the SR
# must load, show either the old or the new state, and after a re-attach
# (which sweeps orphans) hold exactly one clean image per node.
source "$LQ_TOP/tests/lib.sh"

mkdir sr
python3 - "$(realpath sr)" <<'PY'
import os, subprocess, sys, uuid, xml.dom.minidom
sys.path.insert(0, os.path.join(os.environ["LQ_TOP"], "tests", "mock"))
from lqtest import call, error, eq, check, main, area_records
import xss

sr = sys.argv[1]

def crash(point, method, **params):
    os.environ["LVQCOW_FAULT"] = point
    try:
        params["dbg"] = "crash"
        xss.call(xss.os.path.join(os.environ["LQ_XSS_ROOT"], "volume", "org.xen.xapi.storage.fileqcow"), method, params)
        raise AssertionError("%s at %s: not killed" % (method, point))
    except xss.XapiError as e:
        eq("%s at %s" % (method, point), ["signalled", "9"], [e.code == "SCRIPT_FAILED" and e.params[1], e.params[2]])
    finally:
        del os.environ["LVQCOW_FAULT"]

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

COMMIT_POINTS = ("meta-commit.wal-written", "meta-commit.wal-synced",
                 "meta-commit.home-written", "meta-commit.applied")

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
        eq("create at %s: new state" % point, 2, len(vols))
        new = [k for k in vols if k != keep["key"]][0]
        eq("create at %s: new volume whole" % point, "new", vols[new]["name"])
        call("Volume.destroy", sr=sr, key=new)

    # Volume.set killed during the commit: the new value, never a mix.
    for i, point in enumerate(COMMIT_POINTS):
        call("Volume.set", sr=sr, key=keep["key"], k="a", v="old")
        crash(point, "Volume.set", sr=sr, key=keep["key"], k="a", v="new%d" % i)
        eq("set at %s: new value" % point, "new%d" % i, consistent(cfg)[keep["key"]]["keys"]["a"])

    # Volume.destroy killed before its commit (old state) and after it
    # (new state, the image left for the sweep).
    gone = call("Volume.create", sr=sr, name="gone", description="", size=1 << 20, sharable=False)
    for point in COMMIT_POINTS:
        g = call("Volume.create", sr=sr, name="g", description="", size=1 << 20, sharable=False)
        crash(point, "Volume.destroy", sr=sr, key=g["key"])
        eq("destroy at %s: gone" % point, False, g["key"] in consistent(cfg))
    crash("volume-destroy.committed", "Volume.destroy", sr=sr, key=gone["key"])
    eq("destroy after commit: gone", [keep["key"]], list(consistent(cfg)))

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
