# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_stuck: a call killed while it holds a volume's server paused.

Snapshot (and resize) pause the attached volume's server around their
change.  Killed in between, nothing resumes it; the server must notice
the overdue pause and run "lvqcow resume", which moves it onto the chain
the metadata names.  For each kill point:
  - a write sent meanwhile is answered, and lands in the volume's leaf
    as the metadata has it: a snapshot committed before the kill keeps
    the old data;
  - the server's log shows that it ran the rescue for an overdue pause
    (so the write did wait for it: nothing else resumes the server);
  - qemu-img check is clean and the collector leaves one image per node.

    lq_stuck.py DIR
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
import nbd_raw as n  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402
import xss  # noqa: E402

BLOCK = 4096
LIMIT_S = 1
DATAPATH = os.path.join(os.environ["LQ_XSS_ROOT"], "datapath", "lvqcow")


def dp(method, **params):
    return xss.call(DATAPATH, method, dict(params, dbg="stuck"))


def status(key):
    ctl = os.path.join(os.environ["LVQCOW_RUNDIR"], "nbd", key, "ctl")
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "lq_ctl.py"),
                          ctl, "status"], capture_output=True, text=True, timeout=60)
    return out.stdout


def killed(method, point, **params):
    """Runs method with a fault at point; it must die there."""
    os.environ["LVQCOW_FAULT"] = point
    try:
        call(method, **params)
        died = False
    except xss.XapiError:
        died = True
    finally:
        del os.environ["LVQCOW_FAULT"]
    check("%s died at %s" % (method, point), died)


def volumes_besides(sr, key):
    return [v["key"] for v in call("SR.ls", sr=sr) if v["key"] != key]


def attach(sr, key, uri):
    be = dp("Datapath.attach", uri=uri, domain="0")
    nbd = [i[1]["uri"] for i in be["implementations"] if i[0] == "Nbd"][0]
    dp("Datapath.activate", uri=uri, domain="0")
    return nbd.split(":", 2)[2].split(":exportname=")


def rescues(key):
    with open(os.path.join(os.environ["LVQCOW_RUNDIR"], "nbd", key, "log")) as f:
        return f.read().count("running the rescue")


def rescued_write(sock, export, key, what):
    """The server is left paused; a write must still be answered once
    the rescue has run."""
    c = n.Client(sock, export)
    c.sock.settimeout(60)
    t0 = time.monotonic()
    c.pwrite(0, b"B" * BLOCK)
    waited = time.monotonic() - t0
    print("%s: a write waited %.2f s (pause limit %d s)" % (what, waited, LIMIT_S))
    check("%s: the server ran its rescue (a new server per case)" % what, rescues(key) >= 1)
    check("%s: server running again" % what, " state=running " in status(key), status(key))
    got = c.pread(0, BLOCK)
    c.sock.close()
    check("%s: the write reads back" % what, got == b"B" * BLOCK)


def leaf_block(sr, key, path):
    raw = path + ".raw"
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", t.leaf_image(sr, key), raw], check=True)
    with open(raw, "rb") as f:
        data = f.read(BLOCK)
    os.unlink(raw)
    return data


def snapshot_killed(path, sr, point, committed):
    v = call("Volume.create", sr=sr, name="stuck", description="", size=16 * t.MIB, sharable=False)
    sock, export = attach(sr, v["key"], v["uri"][0])
    c = n.Client(sock, export)
    c.pwrite(0, b"A" * BLOCK)
    c.sock.close()
    killed("Volume.snapshot", point, sr=sr, key=v["key"])
    rescued_write(sock, export, v["key"], "snapshot killed at " + point)
    snaps = volumes_besides(sr, v["key"])
    check("at most the one snapshot", len(snaps) <= 1, snaps)
    if committed is not None:
        eq("snapshot committed before the kill at %s" % point, committed, len(snaps) == 1)
    for s in snaps:
        check("the snapshot keeps the data of its moment",
              leaf_block(sr, s, path) == b"A" * BLOCK)
        call("Volume.destroy", sr=sr, key=s)
    dp("Datapath.deactivate", uri=v["uri"][0], domain="0")
    dp("Datapath.detach", uri=v["uri"][0], domain="0")
    check("the volume holds the write", leaf_block(sr, v["key"], path) == b"B" * BLOCK)
    call("Volume.destroy", sr=sr, key=v["key"])


def resize_killed(path, sr):
    v = call("Volume.create", sr=sr, name="grow", description="", size=16 * t.MIB, sharable=False)
    sock, export = attach(sr, v["key"], v["uri"][0])
    killed("Volume.resize", "volume-resize.image-grown", sr=sr, key=v["key"], new_size=32 * t.MIB)
    rescued_write(sock, export, v["key"], "resize killed with the image grown")
    dp("Datapath.deactivate", uri=v["uri"][0], domain="0")
    dp("Datapath.detach", uri=v["uri"][0], domain="0")
    check("the volume holds the write", leaf_block(sr, v["key"], path) == b"B" * BLOCK)
    call("Volume.destroy", sr=sr, key=v["key"])


def stuck(path):
    os.environ["LVQCOW_NBD_PAUSE_LIMIT"] = str(LIMIT_S)
    sr = t.new_sr(path)
    snapshot_killed(path, sr, "volume-tree.committed", True)
    snapshot_killed(path, sr, "meta-commit.wal-synced", None)
    snapshot_killed(path, sr, "meta-commit.wal-data-written", None)
    resize_killed(path, sr)
    call("SR.detach", sr=sr)  # the attach sweeps images a killed call left
    call("SR.attach", configuration={"path": sr})
    t.collect(sr)
    t.check_images(sr)
    eq("no node left", 0, len(t.nodes(sr)))


if __name__ == "__main__":
    os.environ.setdefault("LVQCOW_GC_AUTO", "0")
    main(lambda: stuck(os.path.realpath(sys.argv[1])))
