# SPDX-License-Identifier: LGPL-2.1-or-later
"""Stand-in for the tracing wrapper of xapi-storage-script.

With tracing on, the daemon runs "python3 -m observer SCRIPT --json"
(TRACEPARENT and OBSERVER_CONFIG_DIR set, PYTHONPATH the plugin
directory).  The wrapper drops its own argv[0], loads SCRIPT with
runpy.run_path as __main__, and turns an exception into status 139 with
empty stdout: what a compiled script gets.  This does the same, without
the tracing."""
import runpy
import sys
import traceback


def main():
    if len(sys.argv) < 2:
        print("observer: usage: SCRIPT ARGS...", file=sys.stderr)
        return 31
    sys.argv = sys.argv[1:]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
        return 0
    except Exception:
        print("Exception in the traced script:", file=sys.stderr)
        traceback.print_exc()
        return 139


if __name__ == "__main__":
    rc = main()
    if rc:
        sys.exit(rc)
