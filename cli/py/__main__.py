# SPDX-License-Identifier: LGPL-2.1-or-later
# The Python face of the lvqcow binary.
#
# The build appends a zip archive holding this file to the ELF binary.
# The kernel ignores it: an ordinary call is a direct exec of compiled
# code.  A Python wrapper that loads the call's script with
# runpy.run_path (xapi-storage-script, when tracing is on, runs
# "python3 -m observer SCRIPT --json") finds a zip application instead
# of source code, and this runs: it hands the call to the binary through
# the same path, so the binary sees its usual argv[0] (it dispatches on
# the call name and the plugin directory), inherits stdin and stdout, and
# its exit status becomes the wrapper's.  Running it as a child rather
# than exec'ing lets the wrapper close its span of the call.
import subprocess
import sys


def main():
    script = sys.argv[0]
    rc = subprocess.call([script] + sys.argv[1:], executable=script)
    if rc < 0:
        rc = 128 - rc
    if rc:
        sys.exit(rc)


main()
