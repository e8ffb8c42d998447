# SPDX-License-Identifier: LGPL-2.1-or-later
"""nbd_hold: hostile idle peers for the server's bounds.

    python3 nbd_hold.py PATH N SECONDS
    python3 nbd_hold.py --client PATH EXPORT SECONDS

connects N sockets to the UNIX socket PATH (an NBD socket: they never
finish the handshake; a control socket: they never send a command),
prints "held K" with how many connected, and keeps them open for
SECONDS or until killed.  With --client, one client that completes the
handshake, prints "size N" (the export size it was told) and idles."""
import socket
import sys
import time


def hold(path, n, seconds):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
        except OSError:
            s.close()
            continue
        socks.append(s)
    print("held %d" % len(socks), flush=True)
    time.sleep(seconds)
    return socks




def hold_client(path, export, seconds):
    """A client that finishes the handshake, prints "size N" and idles."""
    import nbd_raw
    c = nbd_raw.Client(path, export)
    print("size %d" % c.size, flush=True)
    time.sleep(seconds)
    return c


if __name__ == "__main__":
    if sys.argv[1] == "--client":
        hold_client(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        hold(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
