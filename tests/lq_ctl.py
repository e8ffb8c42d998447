# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_ctl: one command on an NBD server's control socket.

    lq_ctl.py SOCKET COMMAND
        sends COMMAND as one line, prints the reply line, and exits 0 only
        when the reply starts with "ok" (a 120 s timeout bounds the wait).
"""
import socket
import sys


def control(path, command):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(120)
    s.connect(path)
    s.sendall(command.encode() + b"\n")
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            break
        line += c
    print(line.decode().strip())
    return line.startswith(b"ok")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(0 if control(*sys.argv[1:]) else 1)
