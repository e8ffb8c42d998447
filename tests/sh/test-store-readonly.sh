#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Read-only calls (SR.stat, SR.ls, Volume.stat, SR.probe) work when the SR
# is on a read-only filesystem: the lock file is opened read-only and
# nothing is written.  Changes fail with a clear error.
source "$LQ_TOP/tests/lib.sh"

mkdir -p base
SRU=$(new_sr base/sr)
V=$(xe vdi-create sr-uuid="$SRU" name-label=ro-test virtual-size=1048576)
mount --bind base base 2>/dev/null && mount -o remount,bind,ro base 2>/dev/null ||
	{ umount base 2>/dev/null; skip "read-only bind mounts not permitted here"; }
at_exit umount "$PWD/base"
not touch base/sr/probe-write 2>/dev/null

PYTHONPATH=$LQ_TESTS/mock python3 - "$(realpath base/sr)" "$V" <<'PY'
import sys
from lqtest import call, error, eq, check, main

sr, key = sys.argv[1:]

def test():
    eq("SR.stat", 1, len([call("SR.stat", sr=sr)]))
    eq("SR.ls", ["ro-test"], [v["name"] for v in call("SR.ls", sr=sr)])
    eq("Volume.stat", "ro-test", call("Volume.stat", sr=sr, key=key)["name"])
    p = call("SR.probe", configuration={"path": sr})
    check("SR.probe finds the SR", p and p[0]["configuration"].get("sr_uuid"), p)
    e = error("Volume.set_name", sr=sr, key=key, new_name="x")
    check("a change fails clearly", "Read-only file system" in " ".join(e), e)

main(test)
PY
