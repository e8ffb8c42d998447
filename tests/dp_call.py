# SPDX-License-Identifier: LGPL-2.1-or-later
"""dp_call: one Datapath call with a domain string of any size, sent on
stdin as xapi-storage-script does (a 600 KB string cannot be a command
line argument).

    python3 dp_call.py PLUGIN_DIR METHOD URI DOMAIN_LEN

DOMAIN_LEN bytes of "d"; prints the call's output, exits with its status."""
import json
import subprocess
import sys


def main():
    d, method, uri, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    params = {"dbg": "t", "uri": uri, "domain": "d" * n}
    p = subprocess.run([d + "/" + method, "--json"], input=json.dumps(params).encode(),
                       stdout=subprocess.PIPE, timeout=120)
    sys.stdout.write(p.stdout.decode(errors="replace")[:2000] + "\n")
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
