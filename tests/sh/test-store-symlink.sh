#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The directory store never follows a symlink inside the SR and removes
# only regular files of its own name form: an images/ that is a symlink
# into another SR, and FIFOs, directories and symlinks where images should
# be, are refused and left alone; the other SR is never touched.
source "$LQ_TOP/tests/lib.sh"

PYTHONPATH=$LQ_TESTS/mock python3 - "$PWD" <<'PY'
import os, stat, sys, uuid
from lqtest import call, error, eq, check, main, sr_dump
from lqdoc import new_sr, reattach, images

top = sys.argv[1]

def img_of(sr, key):
    return [i for i in images(sr) if i not in before_imgs][0]

def test_symlinked_images():
    other = new_sr(top + "/other")
    for n in range(2):
        call("Volume.create", sr=other, name="v%d" % n, description="", size=1 << 20, sharable=False)
    victim = new_sr(top + "/victim")
    other_before = sr_dump(other)
    os.rmdir(victim + "/images")
    os.symlink(other + "/images", victim + "/images")
    # attach sweeps: the other SR's images are not this SR's to touch
    reattach(victim)
    eq("other SR after attach", other_before, sr_dump(other))
    check("no quarantine made", not os.path.exists(victim + "/quarantine"))
    e = error("SR.destroy", sr=victim)
    check("destroy refused", "not a directory" in " ".join(e), e)
    eq("other SR after destroy", other_before, sr_dump(other))
    check("victim metadata kept", os.path.exists(victim + "/lvqcow-sr.meta"))
    e = error("Volume.create", sr=victim, name="x", description="", size=1 << 20, sharable=False)
    eq("other SR after create", other_before, sr_dump(other))

def test_odd_files():
    sr = new_sr(top + "/odd")
    v = call("Volume.create", sr=sr, name="v", description="", size=1 << 20, sharable=False)
    keep = images(sr)
    outside = top + "/outside.txt"
    with open(outside, "wb") as f:
        f.write(b"precious" * 100000)
    odd = {}
    for kind in ("fifo", "dir", "link"):
        name = "%s.qcow2" % uuid.uuid4()
        p = sr + "/images/" + name
        {"fifo": os.mkfifo, "dir": os.mkdir, "link": lambda q: os.symlink(outside, q)}[kind](p)
        odd[kind] = name
    foreign = sr + "/images/NOTES.txt"
    open(foreign, "w").write("operator's file")
    reattach(sr)
    eq("odd names left alone", sorted(keep + list(odd.values()) + ["NOTES.txt"]), images(sr))
    check("fifo still a fifo", stat.S_ISFIFO(os.lstat(sr + "/images/" + odd["fifo"]).st_mode))
    check("link still a link", os.path.islink(sr + "/images/" + odd["link"]))
    eq("outside intact", b"precious" * 100000, open(outside, "rb").read())
    eq("nothing quarantined", [], images(sr, "quarantine"))

    # the volume's own image replaced by a symlink to an outside file:
    # not followed (no size taken from it), not deleted through
    img = sr + "/images/" + keep[0]
    os.rename(img, top + "/saved.qcow2")
    os.symlink(outside, img)
    eq("size not taken through the link", 0,
       call("Volume.stat", sr=sr, key=v["key"])["physical_utilisation"])
    call("Volume.destroy", sr=sr, key=v["key"])
    check("link left alone", os.path.islink(img))
    eq("outside intact after destroy", b"precious" * 100000, open(outside, "rb").read())

def test():
    test_symlinked_images()
    test_odd_files()

main(test)
PY
