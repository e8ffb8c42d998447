#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A sealed document whose node names an image not of the store's form
# ("../../x", an absolute path, an uppercase uuid) makes the store
# refuse that name everywhere; the sweep then trusts nothing and moves
# or removes nothing, so neither the named file nor the real image is lost.
source "$LQ_TOP/tests/lib.sh"

PYTHONPATH=$LQ_TESTS/mock python3 - "$PWD" <<'PY'
import os, sys
from lqtest import call, eq, check, main
from lqdoc import new_sr, reattach, images, set_node_image

top = sys.argv[1]
victim = top + "/victim"

def one(n, hostile_of):
    sr = new_sr(top + "/sr%d" % n)
    keep = call("Volume.create", sr=sr, name="keep", description="", size=1 << 20, sharable=False)
    keep_img = images(sr)
    bad = call("Volume.create", sr=sr, name="bad", description="", size=1 << 20, sharable=False)
    bad_img = [i for i in images(sr) if i not in keep_img][0]
    hostile = hostile_of(sr, bad_img)
    set_node_image(sr, bad_img, hostile)
    try:
        reattach(sr)
    except Exception:
        pass  # refusing the document outright is fine too
    eq("%s: images after attach" % hostile, sorted(keep_img + [bad_img]), images(sr))
    eq("%s: nothing quarantined" % hostile, [], images(sr, "quarantine"))
    try:
        call("Volume.destroy", sr=sr, key=bad["key"])
    except Exception:
        pass
    eq("%s: victim intact" % hostile, "not an image", open(victim).read())
    check("%s: real image kept" % hostile, os.path.exists(sr + "/images/" + bad_img))
    try:
        reattach(sr)
    except Exception:
        pass
    check("%s: real image kept after destroy and attach" % hostile,
          os.path.exists(sr + "/images/" + bad_img) or
          any(q.startswith(bad_img) for q in images(sr, "quarantine")))
    eq("%s: victim intact at the end" % hostile, "not an image", open(victim).read())

def test():
    open(victim, "w").write("not an image")
    one(1, lambda sr, img: os.path.relpath(victim, sr + "/images"))
    one(2, lambda sr, img: victim)
    one(3, lambda sr, img: img[:-6].upper() + ".qcow2")

main(test)
PY
