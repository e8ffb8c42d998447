#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SR.destroy checks that everything it would remove is the store's own
# before it removes the document: a subdirectory or a foreign file in
# images/ or quarantine/ makes it refuse and change nothing.  Once they are
# gone it removes the SR's own names, quarantined images included.
source "$LQ_TOP/tests/lib.sh"

PYTHONPATH=$LQ_TESTS/mock python3 - "$PWD" <<'PY'
import os, sys
from lqtest import call, error, eq, check, main, sr_dump
from lqdoc import new_sr, reattach, images

top = sys.argv[1]

def refused(sr, what):
    before = sr_dump(sr)
    e = error("SR.destroy", sr=sr)
    check(what + ": clear error", "SR.destroy refused" in " ".join(e), e)
    eq(what + ": SR unchanged", before, sr_dump(sr))
    call("SR.stat", sr=sr)

def test():
    sr = new_sr(top + "/sr")
    v = call("Volume.create", sr=sr, name="v", description="", size=1 << 20, sharable=False)
    img = images(sr)[0]
    call("Volume.destroy", sr=sr, key=v["key"])
    os.mkdir(sr + "/images/sub")
    open(sr + "/images/sub/data", "w").write("x")
    refused(sr, "subdirectory in images/")
    os.rename(sr + "/images/sub", top + "/sub")
    open(sr + "/images/readme", "w").write("x")
    refused(sr, "foreign file in images/")
    os.unlink(sr + "/images/readme")
    os.mkdir(sr + "/quarantine")
    os.mkdir(sr + "/quarantine/%s.12" % img)
    refused(sr, "directory in quarantine/")
    os.rmdir(sr + "/quarantine/%s.12" % img)
    open(sr + "/quarantine/%s.12" % img, "w").write("old image")
    call("SR.destroy", sr=sr)
    eq("only the SR's own names removed", [], os.listdir(sr))
    check("moved-away directory intact", open(top + "/sub/data").read() == "x")

main(test)
PY
