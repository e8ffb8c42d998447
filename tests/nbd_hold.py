"""nbd_hold: hostile idle peers for the server's bounds.

    python3 nbd_hold.py PATH N SECONDS

connects N sockets to the UNIX socket PATH (an NBD socket: they never
finish the handshake; a control socket: they never send a command),
prints "held K" with how many connected, and keeps them open for
SECONDS or until killed."""
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


if __name__ == "__main__":
    hold(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
