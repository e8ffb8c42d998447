# SPDX-License-Identifier: LGPL-2.1-or-later
"""nbd_hostile: clients that misbehave on purpose, for the server's
bounds on time and memory.  Each mode prints one result line.

    late PATH                   greeting read, then silence: prints how
                                many seconds until the server hung up
    noread PATH EXPORT N LEN    N reads of LEN bytes, replies never read;
                                keeps the socket until killed
    io PATH EXPORT N            N write+read round trips of 64 KiB;
                                prints the seconds it took
    bigwrites PATH EXPORT N LEN N writes of LEN bytes sent back to back
                                (nothing read meanwhile), then every
                                reply checked
    hangup PATH EXPORT N        N reads sent, then the socket closed
    badmagic PATH EXPORT N      N clients, each sending a bad request
                                magic (one log line each)
    head PATH EXPORT LEN        the first LEN bytes of the export, to stdout
"""
import os
import socket
import struct
import sys
import threading
import time

import nbd_raw


def late(path):
    s = nbd_raw.connect(path, timeout=60)
    nbd_raw.greeting(s)
    start = time.time()
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    print("closed after %.1f" % (time.time() - start))


def read_request(cookie, off, length):
    return struct.pack(">IHHQQI", nbd_raw.REQ_MAGIC, 0, nbd_raw.CMD_READ, cookie, off, length)


def noread(path, export, n, length):
    c = nbd_raw.Client(path, export)
    c.sock.settimeout(None)
    sent = 0
    try:
        for i in range(n):
            c.sock.sendall(read_request(i + 1, (i * length) % (c.size - length), length))
            sent += 1
    except OSError:
        pass
    print("sent %d" % sent, flush=True)
    time.sleep(3600)


def io(path, export, n):
    """Each round: a write, then two reads of it sent together, so that
    requests go through the worker pool, not the reader's shortcut."""
    c = nbd_raw.Client(path, export)
    block = os.urandom(65536)
    start = time.time()
    for i in range(n):
        off = (i * 65536) % (c.size - 65536)
        c.pwrite(off, block)
        c.base = off
        c.send_request(nbd_raw.CMD_READ, off, 65536)
        c.send_request(nbd_raw.CMD_READ, off, 65536)
        for _ in range(2):
            cookie, err, data = c.read_reply(65536)
            if err or data != block:
                raise SystemExit("round %d failed" % i)
    print("%.2f" % (time.time() - start))


def bigwrites(path, export, n, length):
    c = nbd_raw.Client(path, export)
    c.sock.settimeout(600)
    payload = bytes([0x5a]) * length

    def hdr(i):
        return struct.pack(">IHHQQI", nbd_raw.REQ_MAGIC, 0, nbd_raw.CMD_WRITE, i + 1,
                           (i * length) % (c.size - length + 1), length)

    # Each payload goes out with the next header behind it, so the server
    # always sees more pending and queues every write to its workers.
    def send():
        c.sock.sendall(hdr(0))
        for i in range(n):
            c.sock.sendall(payload + (hdr(i + 1) if i + 1 < n else b""))

    t = threading.Thread(target=send)
    t.start()
    errors = sum(c.read_reply()[1] != 0 for _ in range(n))
    t.join()
    print("errors %d" % errors)
    sys.exit(1 if errors else 0)


def hangup(path, export, n):
    c = nbd_raw.Client(path, export)
    c.sock.sendall(b"".join(read_request(i + 1, 0, 4096) for i in range(n)))
    c.sock.close()
    print("hung up")


def head(path, export, n):
    c = nbd_raw.Client(path, export)
    sys.stdout.buffer.write(c.pread(0, n))
    c.close()


def badmagic(path, export, n):
    for _ in range(n):
        c = nbd_raw.Client(path, export)
        c.sock.sendall(b"\0" * 28)
        try:
            c.sock.recv(1)
        except OSError:
            pass
        c.sock.close()
    print("done")


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "late":
        late(args[0])
    elif mode == "noread":
        noread(args[0], args[1], int(args[2]), int(args[3]))
    elif mode == "io":
        io(args[0], args[1], int(args[2]))
    elif mode == "bigwrites":
        bigwrites(args[0], args[1], int(args[2]), int(args[3]))
    elif mode == "head":
        head(args[0], args[1], int(args[2]))
    elif mode == "badmagic":
        badmagic(args[0], args[1], int(args[2]))
    elif mode == "hangup":
        hangup(args[0], args[1], int(args[2]))
    else:
        raise SystemExit("unknown mode " + mode)
