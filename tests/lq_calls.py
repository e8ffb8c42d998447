# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_calls: every SR, Volume and Plugin call of the fileqcow plugin, in
one process through the xapi-storage-script mock (which checks each
result against the IDL).

    lq_calls.py lifecycle DIR
        runs the whole lifecycle on an SR in DIR/sr (an empty directory):
        query, probe, create, attach, stat, names, every Volume call and
        its errors, detach, destroy.  Prints OK, or the first failure and
        exits 1.
"""
import json
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
from lqtest import call, error, eq, check, main  # noqa: E402


def lifecycle(path):
    q = call("Plugin.Query")
    eq("plugin", "fileqcow", q["plugin"])
    eq("api", "5.0", q["required_api_version"])
    eq("query (lower case)", q, call("plugin.query"))
    eq("Plugin.ls empty", [], call("Plugin.ls"))

    # probe of an empty directory: a configuration to create an SR from
    eq("probe empty", [{"complete": True, "configuration": {"path": path}, "extra_info": {}}],
       call("SR.probe", configuration={"path": path}))

    u = str(uuid.uuid4())
    cfg = call("SR.create", uuid=u, configuration={"path": path + "/../sr", "extra": "kept"},
               name="n", description="d")
    eq("create config", {"path": path, "sr_uuid": u, "extra": "kept"}, cfg)
    check("metadata area", os.path.isfile(path + "/lvqcow-sr.meta"))
    eq("create twice", "Invalid_argument",
       error("SR.create", uuid=u, configuration={"path": path}, name="n", description="d")[0])
    eq("not attached", ["Sr_not_attached", path], error("SR.stat", sr=path))

    sr = call("SR.attach", configuration=cfg)
    eq("sr string", path, sr)
    eq("attach again (idempotent)", sr, call("SR.attach", configuration=cfg))
    st = call("SR.stat", sr=sr)
    eq("stat uuid", u, st["uuid"])
    eq("health", ["Healthy", ""], st["health"])
    check("space", 0 < st["total_space"] and 0 <= st["free_space"] <= st["total_space"], st)
    eq("Plugin.ls", [sr], call("Plugin.ls"))
    check("diagnostics", u in call("Plugin.diagnostics"))
    p = call("SR.probe", configuration={"path": path})
    eq("probe sr_uuid", u, p[0]["configuration"]["sr_uuid"])
    eq("probe stat", u, p[0]["sr"]["uuid"])
    eq("wrong sr_uuid", "SR_does_not_exist",
       error("SR.attach", configuration={"path": path, "sr_uuid": str(uuid.uuid4())})[0])

    call("SR.set_name", sr=sr, new_name="renamed")
    call("SR.set_description", sr=sr, new_description="described")
    st = call("SR.stat", sr=sr)
    eq("names", ("renamed", "described"), (st["name"], st["description"]))

    v = call("Volume.create", sr=sr, name="v1", description="d1", size=1000000, sharable=False)
    key = v["key"]
    eq("vsize rounded to 512", 1000448, v["virtual_size"])
    eq("uri", ["lvqcow://fileqcow%s/%s" % (path, key)], v["uri"])
    eq("rw, sharable", (True, False), (v["read_write"], v["sharable"]))
    check("physical_utilisation", v["physical_utilisation"] > 0, v)
    imgs = os.listdir(path + "/images")
    eq("one image", 1, len(imgs))
    img = path + "/images/" + imgs[0]
    subprocess.run(["qemu-img", "check", "-q", img], check=True)
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", img], check=True,
                                     stdout=subprocess.PIPE).stdout)
    eq("qemu vsize", 1000448, info["virtual-size"])
    eq("qcow2 v3", "1.1", info["format-specific"]["data"]["compat"])
    v0 = call("Volume.create", sr=sr, name="zero", description="", size=0, sharable=True)
    eq("size 0", (0, True), (v0["virtual_size"], v0["sharable"]))
    big = call("Volume.create", sr=sr, name="max", description="", size=16 << 40, sharable=False)
    eq("max size", 16 << 40, big["virtual_size"])
    eq("too big", ["SR_BACKEND_FAILURE_79", "VDI Invalid size"],
       error("Volume.create", sr=sr, name="x", description="", size=(16 << 40) + 1, sharable=False)[:2])

    k = dict(sr=sr, key=key)
    call("Volume.set", k="vdi-type", v="user", **k)
    call("Volume.set", k="other", v="x", **k)
    call("Volume.set", k="other", v="y", **k)
    call("Volume.unset", k="vdi-type", **k)
    call("Volume.unset", k="never-set", **k)
    call("Volume.set_name", new_name="v1b", **k)
    call("Volume.set_description", new_description="d1b", **k)
    s = call("Volume.stat", **k)
    eq("keys", {"other": "y"}, s["keys"])
    eq("stat names", ("v1b", "d1b"), (s["name"], s["description"]))
    eq("ls", 3, len(call("SR.ls", sr=sr)))
    eq("ls entry", s, [x for x in call("SR.ls", sr=sr) if x["key"] == key][0])

    eq("destroy non-empty", ["SR_NOT_EMPTY"], error("SR.destroy", sr=sr))
    for kk in (key, v0["key"], big["key"]):
        call("Volume.destroy", sr=sr, key=kk)
    eq("images gone", [], os.listdir(path + "/images"))
    eq("gone", ["Volume_does_not_exist", key], error("Volume.stat", **k))
    eq("destroy twice", ["Volume_does_not_exist", key], error("Volume.destroy", **k))

    call("SR.detach", sr=sr)
    eq("detached", "Sr_not_attached", error("SR.ls", sr=sr)[0])
    eq("detach twice", "Sr_not_attached", error("SR.detach", sr=sr)[0])
    call("SR.attach", configuration=cfg)
    call("SR.destroy", sr=sr)
    eq("SR directory empty", [], os.listdir(path))
    eq("destroyed", "Sr_not_attached", error("SR.stat", sr=sr)[0])
    eq("attach destroyed", "SR_does_not_exist", error("SR.attach", configuration=cfg)[0])
    eq("Plugin.ls empty again", [], call("Plugin.ls"))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "lifecycle":
        sys.exit(__doc__)
    main(lambda: lifecycle(sys.argv[2] + "/sr"))
