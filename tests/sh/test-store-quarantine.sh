#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Restoring an older copy of the metadata loses nothing: SR.attach moves
# the images it does not name into quarantine/ (never deletes them),
# putting the newer copy back restores them, and they are removed only by
# a sweep after the grace period (LVQCOW_QUARANTINE_GRACE seconds).
source "$LQ_TOP/tests/lib.sh"

PYTHONPATH=$LQ_TESTS/mock python3 - "$PWD" <<'PY'
import os, re, subprocess, sys
from lqtest import call, eq, check, main
from lqdoc import new_sr, reattach, images, save, restore

top = sys.argv[1]

def vol(sr, name):
    return call("Volume.create", sr=sr, name=name, description="", size=1 << 20, sharable=False)

def test():
    os.environ["LVQCOW_QUARANTINE_GRACE"] = "3600"
    sr = new_sr(top + "/sr")
    v1 = vol(sr, "old")
    save(sr, top + "/old.meta")
    old_imgs = images(sr)
    v2 = vol(sr, "new")
    call("Volume.set", sr=sr, key=v2["key"], k="data", v="precious")
    save(sr, top + "/new.meta")
    new_img = [i for i in images(sr) if i not in old_imgs][0]

    note = "the operator restores the older copy"
    restore(sr, top + "/old.meta")
    reattach(sr)
    eq(note + ": images", old_imgs, images(sr))
    q = images(sr, "quarantine")
    eq(note + ": one quarantined", 1, len(q))
    check(note + ": quarantine name", re.fullmatch(re.escape(new_img) + r"\.\d+", q[0]), q)
    subprocess.run(["qemu-img", "check", "-q", sr + "/quarantine/" + q[0]], check=True)
    eq(note + ": old volume fine", "old", call("Volume.stat", sr=sr, key=v1["key"])["name"])

    note = "a sweep within the grace period"
    reattach(sr)
    eq(note + ": still quarantined", q, images(sr, "quarantine"))

    note = "the newer copy put back"
    restore(sr, top + "/new.meta")
    reattach(sr)
    eq(note + ": image restored", sorted(old_imgs + [new_img]), images(sr))
    eq(note + ": quarantine empty", [], images(sr, "quarantine"))
    eq(note + ": volume back", "precious",
       call("Volume.stat", sr=sr, key=v2["key"])["keys"]["data"])

    note = "grace expiry"
    restore(sr, top + "/old.meta")
    reattach(sr)
    eq(note + ": quarantined again", 1, len(images(sr, "quarantine")))
    foreign = sr + "/quarantine/operator-copy.qcow2"
    open(foreign, "w").write("kept by hand")
    os.environ["LVQCOW_QUARANTINE_GRACE"] = "0"
    reattach(sr)
    eq(note + ": removed, the foreign file kept", ["operator-copy.qcow2"], images(sr, "quarantine"))
    eq(note + ": images", old_imgs, images(sr))

main(test)
PY
