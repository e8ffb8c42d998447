# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_tree: snapshots, clones, resize and the garbage collector on an SR
of type $LQ_SR_TYPE (fileqcow by default, or lvqcow), through the
xapi-storage-script mock; guest data is written with `lvqcow img write`
(qemu-io on lvqcow, whose images are links to device nodes) on a
detached volume's leaf and read back with qemu-img (an independent
reader that follows the images' headers).

    lq_tree.py calls DIR     snapshot, clone, resize, the depth cap
    lq_tree.py gc DIR        destroy and coalesce back to one node, in
                             both copy directions, by a foreground and by
                             the detached collector
Prints OK, or the first failure and exits 1.
"""
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
from lqtest import call, error, eq, check, main  # noqa: E402
from lqdoc import area_records, KIND_NODE, KIND_VOLUME  # noqa: E402
import lqsr  # noqa: E402

MIB = 1 << 20
LQ = os.environ.get("LQ_BIN", "lvqcow")
GC = [LQ, "gc", "--type", lqsr.SR_TYPE]


ATTACH = {}   # SR string -> the device-config SR.attach takes again


def new_sr(path):
    os.makedirs(path, exist_ok=True)
    if lqsr.LVM:
        from lqtest import new_device_config
        where = new_device_config(4 << 30)
    else:
        where = {"path": path}
    cfg = call("SR.create", uuid=str(uuid.uuid4()), configuration=where, name="sr", description="")
    sr = call("SR.attach", configuration=cfg)
    ATTACH[sr] = cfg
    return sr


def reattach(sr):
    call("SR.detach", sr=sr)
    call("SR.attach", configuration=ATTACH[sr])


def nodes(sr):
    return {n.getAttribute("uuid"): n for n in area_records(lqsr.area(sr), KIND_NODE)}


def leaf_image(sr, key):
    vols = {v.getAttribute("key"): v for v in area_records(lqsr.area(sr), KIND_VOLUME)}
    node = nodes(sr)[vols[key].getAttribute("node")]
    return lqsr.image_path(sr, node.getAttribute("image"))


def depth(sr, key):
    ns = nodes(sr)
    vols = {v.getAttribute("key"): v for v in area_records(lqsr.area(sr), KIND_VOLUME)}
    d, cur = 0, vols[key].getAttribute("node")
    while cur:
        d += 1
        cur = ns[cur].getAttribute("parent")
    return d


def write(sr, key, off, data):
    path = leaf_image(sr, key)
    lqsr.make_room(path, len(data))
    if not lqsr.LVM:
        subprocess.run([LQ, "img", "write", os.path.realpath(path), str(off)], input=data, check=True)
        return
    # The admin CLI opens no link and follows no header's backing name
    # out of its directory: an LV's path is a link to /dev/dm-N, with no
    # backing image beside it.  qemu-io writes there, through the chain.
    src = os.path.join(os.getcwd(), "write.bin")
    with open(src, "wb") as f:
        f.write(data)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -s %s %d %d" % (src, off, len(data)), path],
                   check=True, stdout=subprocess.DEVNULL)
    os.unlink(src)


def content(sr, key, limit=None):
    """sha256 of the guest view (its first limit bytes), read by qemu-img
    through the headers."""
    raw = os.path.join(os.getcwd(), "content.raw")
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", leaf_image(sr, key), raw], check=True)
    with open(raw, "rb") as f:
        digest = hashlib.sha256(f.read(limit) if limit else f.read()).hexdigest()
    os.unlink(raw)
    return digest


def check_images(sr, leaks_ok=False):
    """One image per node, each clean for qemu-img check (after a crash,
    leaked clusters, exit status 3, are no corruption)."""
    images = lqsr.images(sr)
    eq("one image per node", sorted(n.getAttribute("image") for n in nodes(sr).values()), images)
    for img in images:
        rc = subprocess.run(["qemu-img", "check", "-q", lqsr.image_path(sr, img)]).returncode
        check("qemu-img check %s: status %d" % (img, rc), rc == 0 or (leaks_ok and rc == 3))


def pattern(tag, n):
    return bytes((tag + i) & 0xff for i in range(n))


def calls(path):
    sr = new_sr(path)
    v = call("Volume.create", sr=sr, name="vm disk", description="d", size=8 * MIB, sharable=False)
    k = v["key"]
    for i in range(4):                       # four spans, the fifth left empty
        write(sr, k, i * 2 * MIB, pattern(i, 64 * 1024))
    before = content(sr, k)

    s = call("Volume.snapshot", sr=sr, key=k)
    eq("snapshot read-only", False, s["read_write"])
    eq("snapshot size, name", (8 * MIB, "vm disk", "d"), (s["virtual_size"], s["name"], s["description"]))
    eq("volume stays writable", True, call("Volume.stat", sr=sr, key=k)["read_write"])
    eq("snapshot content", before, content(sr, s["key"]))
    write(sr, k, 8 * MIB - 64 * 1024, pattern(9, 64 * 1024))   # the empty span
    write(sr, k, 0, pattern(7, 4096))                          # overwrite one
    check("volume changed", content(sr, k) != before)
    eq("snapshot unchanged", before, content(sr, s["key"]))

    after = content(sr, k)
    c = call("Volume.clone", sr=sr, key=k)
    eq("clone writable", True, c["read_write"])
    eq("clone content", after, content(sr, c["key"]))
    write(sr, c["key"], MIB, pattern(3, 4096))
    eq("volume unchanged by the clone's writes", after, content(sr, k))
    cs = call("Volume.clone", sr=sr, key=s["key"])
    eq("clone of a snapshot", before, content(sr, cs["key"]))
    ss = call("Volume.snapshot", sr=sr, key=s["key"])
    eq("snapshot of a snapshot shares its node", depth(sr, s["key"]), depth(sr, ss["key"]))

    call("Volume.resize", sr=sr, key=k, new_size=16 * MIB + 1)
    st = call("Volume.stat", sr=sr, key=k)
    eq("grown, rounded to 512", 16 * MIB + 512, st["virtual_size"])
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", leaf_image(sr, k)],
                                     stdout=subprocess.PIPE, check=True).stdout)
    eq("image grown", 16 * MIB + 512, info["virtual-size"])
    eq("shrink refused", "SR_BACKEND_FAILURE_79", error("Volume.resize", sr=sr, key=k, new_size=MIB)[0])
    eq("same size is fine", None, call("Volume.resize", sr=sr, key=k, new_size=16 * MIB + 512))
    eq("read-only resize refused", "Invalid_argument",
       error("Volume.resize", sr=sr, key=s["key"], new_size=32 * MIB)[0])
    eq("unknown key", "Volume_does_not_exist", error("Volume.snapshot", sr=sr, key=str(uuid.uuid4()))[0])
    check_images(sr)

    # Compose: the child's data on top of the parent's of this moment.
    p = call("Volume.create", sr=sr, name="parent", description="", size=4 * MIB, sharable=False)
    ch = call("Volume.create", sr=sr, name="child", description="", size=4 * MIB, sharable=False)
    write(sr, p["key"], 0, pattern(1, 8192))
    write(sr, p["key"], MIB, pattern(2, 128 * 1024))
    write(sr, ch["key"], MIB, pattern(3, 64 * 1024))   # one whole cluster
    want_p = content(sr, p["key"])
    call("Volume.compose", sr=sr, key=ch["key"], key2=p["key"])
    eq("parent unchanged by compose", want_p, content(sr, p["key"]))
    raw = os.path.join(os.getcwd(), "composed.raw")
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", leaf_image(sr, ch["key"]), raw], check=True)
    with open(raw, "rb") as f:
        got = f.read()
    os.unlink(raw)
    eq("child: the parent's data where it wrote nothing", pattern(1, 8192), got[:8192])
    eq("child: its own data", pattern(3, 65536), got[MIB:MIB + 65536])
    eq("child: the parent's data past its own", pattern(2, 131072)[65536:],
       got[MIB + 65536:MIB + 131072])
    write(sr, p["key"], 0, pattern(9, 4096))
    check("parent writable after compose", content(sr, p["key"]) != want_p)
    eq("compose twice refused", "Invalid_argument",
       error("Volume.compose", sr=sr, key=ch["key"], key2=p["key"])[0])
    eq("compose with itself refused", "Invalid_argument",
       error("Volume.compose", sr=sr, key=ch["key"], key2=ch["key"])[0])
    check_images(sr)

    # The depth cap: a clear error instead of a chain longer than 30.
    d = call("Volume.create", sr=sr, name="deep", description="", size=MIB, sharable=False)
    for _ in range(29):
        call("Volume.snapshot", sr=sr, key=d["key"])
    eq("depth at the cap", 30, depth(sr, d["key"]))
    err = error("Volume.snapshot", sr=sr, key=d["key"])
    eq("past the cap", "Invalid_argument", err[0])
    check("cap explained", "30" in err[1], err)
    check_images(sr)


def collect(sr, **env):
    subprocess.run(GC + [sr], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, **env))


def one_tree(sr, direction):
    """Snapshot, clone, write, destroy, collect: back to one node."""
    v = call("Volume.create", sr=sr, name=direction, description="", size=8 * MIB, sharable=False)
    k = v["key"]
    for i in range(4):
        write(sr, k, i * 2 * MIB, pattern(i, 128 * 1024))
    s = call("Volume.snapshot", sr=sr, key=k)
    write(sr, k, 8 * MIB - 64 * 1024, pattern(9, 64 * 1024))
    write(sr, k, 2 * MIB, pattern(5, 64 * 1024))
    c = call("Volume.clone", sr=sr, key=k)
    write(sr, c["key"], 4 * MIB, pattern(6, 64 * 1024))
    want, want_c = content(sr, k), content(sr, c["key"])
    eq("depth before", 3, depth(sr, k))
    call("Volume.destroy", sr=sr, key=s["key"])
    eq("clone kept", want_c, content(sr, c["key"]))
    call("Volume.destroy", sr=sr, key=c["key"])
    collect(sr, LVQCOW_GC_DIRECTION=direction)
    eq("depth after the collector (%s)" % direction, 1, depth(sr, k))
    eq("content after the collector (%s)" % direction, want, content(sr, k))
    check_images(sr)
    call("Volume.destroy", sr=sr, key=k)


def gc(path):
    sr = new_sr(path)
    one_tree(sr, "up")
    one_tree(sr, "down")
    one_tree(sr, "")
    eq("no node left", {}, nodes(sr))
    eq("no image left", [], lqsr.images(sr))

    # The detached collector started by destroy does the same by itself.
    v = call("Volume.create", sr=sr, name="auto", description="", size=4 * MIB, sharable=False)
    write(sr, v["key"], 0, pattern(1, 65536))
    s = call("Volume.snapshot", sr=sr, key=v["key"])
    write(sr, v["key"], MIB, pattern(2, 65536))
    want = content(sr, v["key"])
    os.environ.pop("LVQCOW_GC_AUTO", None)
    call("Volume.destroy", sr=sr, key=s["key"])
    deadline = time.time() + 60
    while depth(sr, v["key"]) > 1 and time.time() < deadline:
        time.sleep(0.2)
    eq("the detached collector coalesced", 1, depth(sr, v["key"]))
    while time.time() < deadline:
        st = json.loads(subprocess.run(GC + ["--status", "--json", sr], check=True,
                                       stdout=subprocess.PIPE).stdout)
        if not st["running"]:
            break
        time.sleep(0.2)
    eq("collector finished", False, st["running"])
    eq("no journal left", 0, st["journal"])
    eq("content", want, content(sr, v["key"]))
    check_images(sr)

    # A destroy that leaves no parent with a single referent gives the
    # collector nothing to do, and starts none (its log is not reopened).
    log = os.path.join(os.environ.get("LVQCOW_RUNDIR", "/run/lvqcow"), "sr",
                       ATTACH[sr]["sr_uuid"], "gc.log")
    before = os.stat(log).st_mtime_ns
    call("Volume.destroy", sr=sr, key=v["key"])
    if lqsr.LVM:
        # On lvqcow the destroy leaves its LVs to the collector it starts.
        deadline = time.time() + 60
        while time.time() < deadline:
            st = json.loads(subprocess.run(GC + ["--status", "--json", sr], check=True,
                                           stdout=subprocess.PIPE).stdout)
            if not st["running"] and not st["journal"] and not lqsr.images(sr):
                break
            time.sleep(0.2)
        eq("the collector removed the destroyed LV", [], lqsr.images(sr))
        eq("no journal left after the destroy", 0, st["journal"])
        return
    time.sleep(1)
    eq("no collector started by a destroy with nothing to coalesce",
       before, os.stat(log).st_mtime_ns)


if __name__ == "__main__":
    cmd, path = sys.argv[1], os.path.realpath(sys.argv[2])
    os.environ.setdefault("LVQCOW_GC_AUTO", "0")
    main(lambda: {"calls": calls, "gc": gc}[cmd](path))
