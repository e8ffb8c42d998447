#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""spawn-ms.py IN OUT ERR CMD [ARG...]: run CMD once, with stdin from
IN and stdout and stderr to OUT and ERR, and print "RC START MS": its
exit status, the epoch seconds when it was started and how long it ran
in ms.  The bench starts a timed call this way because lvm-replay.py
starts each `lvm` command it times the same way (subprocess.run, timed
with time.monotonic around it): the call and the binary it is compared
with then pay the same process start, not a shell pipeline on one side
only."""
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 5:
        print(__doc__.split("\n")[0], file=sys.stderr)
        return 2
    path_in, path_out, path_err, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with open(path_in, "rb") as fin, open(path_out, "wb") as fout, open(path_err, "wb") as ferr:
        start = time.time()
        t = time.monotonic()
        rc = subprocess.run(cmd, stdin=fin, stdout=fout, stderr=ferr).returncode
        ms = (time.monotonic() - t) * 1e3
    print("%d %.6f %.1f" % (rc, start, ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
