#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash leftovers and damaged metadata: orphan images (a create that died
# before its commit, a destroy that died after it) are set aside on
# SR.attach; a torn or corrupt document is reported on every call and
# never used or rewritten; a leftover temporary document is ignored.
source "$LQ_TOP/tests/lib.sh"

SRU=$(new_sr sr)
V=$(xe vdi-create sr-uuid="$SRU" name-label=keep virtual-size=4194304)
keep_img=$(ls sr/images)

note "orphans are moved to quarantine by SR.attach (pbd-unplug, pbd-plug), referenced images kept"
orphan=$(python3 -c 'import uuid; print(uuid.uuid4())').qcow2
cp "sr/images/$keep_img" "sr/images/$orphan"
xe pbd-unplug uuid="$SRU"
xe pbd-plug uuid="$SRU"
assert_eq "after sweep" "$keep_img" "$(ls sr/images)"
[[ "$(ls sr/quarantine)" == "$orphan".* ]] || die "orphan not in quarantine: $(ls sr/quarantine)"
assert_eq "volume kept" keep "$(xe vdi-param-get uuid="$V" param-name=name-label)"

python3 - "$(realpath sr)" "$V" <<'PY'
import os, shutil, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["LQ_TOP"], "tests", "mock"))
from lqtest import call, error, eq, check, main, sr_dump, area_block_of, BLOCK

sr, key = sys.argv[1:]
doc = sr + "/lvqcow-sr.meta"

def test():
    # A leftover temporary document (a commit that died before its rename).
    with open(doc + ".tmp.12345", "w") as f:
        f.write("half written")
    call("Volume.set_name", sr=sr, key=key, new_name="still-fine")
    eq("name", "still-fine", call("Volume.stat", sr=sr, key=key)["name"])
    os.unlink(doc + ".tmp.12345")

    good = open(doc, "rb").read()
    def flip(data, *offs):
        b = bytearray(data)
        for o in offs:
            b[o] ^= 1
        return bytes(b)
    # Damage every call meets: both superblocks, the SR record (with the
    # WAL, which would otherwise repair it), a truncated area.
    srrec = area_block_of(doc, 1) * BLOCK
    damaged = [good[:0], good[:BLOCK + 100], flip(good, 20, BLOCK + 20),
               flip(good, srrec + 40, 2 * BLOCK + 8), flip(good, srrec + 5, 2 * BLOCK + 8)]
    calls = [("SR.stat", dict(sr=sr)), ("SR.ls", dict(sr=sr)),
             ("Volume.stat", dict(sr=sr, key=key)),
             ("Volume.set", dict(sr=sr, key=key, k="a", v="b")),
             ("Volume.create", dict(sr=sr, name="n", description="", size=1, sharable=False)),
             ("Volume.destroy", dict(sr=sr, key=key)),
             ("SR.set_name", dict(sr=sr, new_name="x")),
             ("SR.destroy", dict(sr=sr)),
             ("SR.attach", dict(configuration={"path": sr}))]
    for i, bad in enumerate(damaged):
        with open(doc, "wb") as f:
            f.write(bad)
        before = sr_dump(sr)
        for m, p in calls:
            eq("damaged %d: %s" % (i, m), "Metadata_corrupt", error(m, **p)[0])
        eq("damaged %d: SR unchanged" % i, before, sr_dump(sr))
    with open(doc, "wb") as f:
        f.write(good)
    eq("restored", "still-fine", call("Volume.stat", sr=sr, key=key)["name"])
    img = [f for f in os.listdir(sr + "/images")][0]
    subprocess.run(["qemu-img", "check", "-q", sr + "/images/" + img], check=True)

main(test)
PY
