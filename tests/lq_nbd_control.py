# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_nbd_control: the client side and the checks of the control-channel
test (a chain changed underneath a connected client).

    lq_nbd_control.py client SOCKET
        the long-lived client of export "vol": writes phase 1, creates
        phase1.done, waits for a file "go", then reads through the chain
        (a read that may wait for resume), writes phase 2, checks what it
        reads back and creates phase2.done.  Run from the test directory.
    lq_nbd_control.py chain BASE_RAW TOP_RAW
        the base holds phase 1 only, the top (overlay) holds phase 2 over
        the base.
    lq_nbd_control.py own-below LIMIT < qemu-img map --output=json
        the overlay has data of its own, all of it below LIMIT bytes.
"""
import json
import os
import sys
import time

import nbd_raw as n

M = 1 << 20


def client(sock):
    c = n.Client(sock, "vol", structured=True)
    c.pwrite(1 << 20, b"\x11" * 65536)
    c.pwrite(9 << 20, b"\x22" * 100000)
    open("phase1.done", "w").close()
    while not os.path.exists("go"):
        time.sleep(0.05)
    assert c.pread(0, 4096) == b"\x5a" * 4096          # through the chain
    c.pwrite(2 << 20, b"\x33" * 65536)                  # lands in the overlay
    c.pwrite(1 << 20, b"\x44" * 4096)
    c.flush()
    assert c.pread(1 << 20, 8192) == b"\x44" * 4096 + b"\x11" * 4096
    assert c.pread(9 << 20, 100000) == b"\x22" * 100000
    c.close()
    open("phase2.done", "w").close()


def chain(base_path, top_path):
    base, top = open(base_path, "rb").read(), open(top_path, "rb").read()
    assert base[M:M + 65536] == b"\x11" * 65536 and base[2 * M:2 * M + 4096] == b"\x5a" * 4096
    assert top[2 * M:2 * M + 65536] == b"\x33" * 65536
    assert top[M:M + 4096] == b"\x44" * 4096 and top[0:4096] == b"\x5a" * 4096


def own_below(limit):
    own = [e for e in json.load(sys.stdin) if e["data"] and e["depth"] == 0]
    assert own and all(e["start"] < int(limit) for e in own), own


COMMANDS = {"client": client, "chain": chain, "own-below": own_below}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
