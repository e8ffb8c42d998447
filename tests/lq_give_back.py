# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_give_back: after a coalesce the surviving image's file is cut to its
image end.  A volume's last 8 MiB hold data in the snapshot's node; the
volume then writes zeros there, the snapshot goes, and the collector
merges up (the zeros free the parent's tail clusters).  The parent's file
must end where qemu-img check says the image ends, be smaller than
before, and the volume must read as before the merge.

    lq_give_back.py DIR
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import lq_tree as t  # noqa: E402
from lqtest import call, eq, check, main  # noqa: E402

MIB = t.MIB


def image_end(path):
    out = subprocess.run(["qemu-img", "check", "-U", "--output=json", path],
                         capture_output=True, text=True).stdout
    return json.loads(out)["image-end-offset"]


def give_back(path):
    os.environ["LVQCOW_GC_AUTO"] = "0"
    sr = t.new_sr(path)
    v = call("Volume.create", sr=sr, name="v", description="", size=32 * MIB, sharable=False)
    key = v["key"]
    t.write(sr, key, 0, t.pattern(1, 4 * MIB))
    t.write(sr, key, 24 * MIB, t.pattern(2, 8 * MIB))
    snap = call("Volume.snapshot", sr=sr, key=key)["key"]
    parent = t.leaf_image(sr, snap)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -z %d %d" % (24 * MIB, 8 * MIB),
                    t.leaf_image(sr, key)], check=True, stdout=subprocess.DEVNULL)
    want = t.content(sr, key)
    before = os.path.getsize(parent)
    call("Volume.destroy", sr=sr, key=snap)
    t.collect(sr, LVQCOW_GC_DIRECTION="up")
    eq("one node", 1, t.depth(sr, key))
    eq("the parent survived (up)", parent, t.leaf_image(sr, key))
    after = os.path.getsize(parent)
    print("parent file: %d bytes before, %d after, image end %d" % (before, after, image_end(parent)))
    eq("file ends at the image end", image_end(parent), after)
    check("space given back (at least the 8 MiB zeroed)", before - after >= 8 * MIB, (before, after))
    eq("content unchanged", want, t.content(sr, key))
    t.check_images(sr)


if __name__ == "__main__":
    main(lambda: give_back(os.path.realpath(sys.argv[1])))
