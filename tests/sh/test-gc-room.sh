#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The collector starts a coalesce only with room for what it copies (plus
# a 64 MiB margin): on a 32 MiB filesystem it refuses with a clear error,
# changes nothing, and the volume still reads as before.
source "$LQ_TOP/tests/lib.sh"
mkdir small
mount -t tmpfs -o size=32m tmpfs small 2>/dev/null || skip "cannot mount a small tmpfs here"
at_exit umount -l "$PWD/small"
export LVQCOW_GC_AUTO=0 LQ_TESTS
python3 - "$PWD/small/sr" <<'PY'
import os, subprocess, sys
sys.path.insert(0, os.environ["LQ_TESTS"])
sys.path.insert(0, os.path.join(os.environ["LQ_TESTS"], "mock"))
import lq_tree as t
from lqtest import call, eq, check, main

def test():
    sr = t.new_sr(sys.argv[1])
    v = call("Volume.create", sr=sr, name="v", description="", size=8 * t.MIB, sharable=False)
    t.write(sr, v["key"], 0, t.pattern(1, 2 * t.MIB))
    s = call("Volume.snapshot", sr=sr, key=v["key"])
    t.write(sr, v["key"], 4 * t.MIB, t.pattern(2, t.MIB))
    want = t.content(sr, v["key"])
    call("Volume.destroy", sr=sr, key=s["key"])
    p = subprocess.run([t.LQ, "gc", "--once", sr], capture_output=True, text=True)
    check("the refusal is explained", "free" in p.stderr and "not started" in p.stderr, p.stderr)
    eq("chain unchanged", 2, t.depth(sr, v["key"]))
    eq("content unchanged", want, t.content(sr, v["key"]))
    t.check_images(sr)

main(test)
PY
