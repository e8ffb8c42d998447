# SPDX-License-Identifier: LGPL-2.1-or-later
"""nbd_raw: a deliberately small NBD client on plain sockets, for tests
that must speak the protocol byte by byte (bad clients, integrity runs).
It implements the fixed newstyle handshake with NBD_OPT_GO, optional
structured replies, and simple request/reply exchanges."""
import socket
import struct

NBD_MAGIC = 0x4E42444D41474943
OPT_MAGIC = 0x49484156454F5054
REP_MAGIC = 0x3E889045565A9
REQ_MAGIC = 0x25609513
SIMPLE_MAGIC = 0x67446698
STRUCT_MAGIC = 0x668E33EF

OPT_EXPORT_NAME, OPT_ABORT, OPT_LIST = 1, 2, 3
OPT_GO, OPT_STRUCTURED, OPT_SET_META = 7, 8, 10
REP_ACK, REP_INFO = 1, 3
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM = 0, 1, 2, 3, 4
CMD_WRITE_ZEROES, CMD_BLOCK_STATUS = 6, 7
FLAG_FUA, FLAG_NO_HOLE, FLAG_DF, FLAG_REQ_ONE, FLAG_FAST_ZERO = 1, 2, 4, 8, 16
EPERM, EIO, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP = 1, 5, 22, 28, 75, 95


class ProtocolError(Exception):
    pass


def connect(path, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("server closed the connection")
        buf += chunk
    return bytes(buf)


def greeting(s):
    magic, opt_magic, flags = struct.unpack(">QQH", recv_exact(s, 18))
    if magic != NBD_MAGIC or opt_magic != OPT_MAGIC:
        raise ProtocolError("bad greeting")
    return flags


def send_option(s, opt, data=b""):
    s.sendall(struct.pack(">QII", OPT_MAGIC, opt, len(data)) + data)


def read_option_reply(s):
    magic, opt, rtype, length = struct.unpack(">QIII", recv_exact(s, 20))
    if magic != REP_MAGIC:
        raise ProtocolError("bad option reply magic")
    return opt, rtype, recv_exact(s, length)


class Client:
    """A connected client in the transmission phase."""

    def __init__(self, path, export, structured=False, meta=False):
        self.sock = connect(path)
        greeting(self.sock)
        self.sock.sendall(struct.pack(">I", 3))
        self.structured = False
        if structured:
            send_option(self.sock, OPT_STRUCTURED)
            self.structured = read_option_reply(self.sock)[1] == REP_ACK
        if meta:
            q = b"base:allocation"
            e = export.encode()
            send_option(self.sock, OPT_SET_META, struct.pack(">I", len(e)) + e +
                        struct.pack(">II", 1, len(q)) + q)
            while read_option_reply(self.sock)[1] != REP_ACK:
                pass
        self.size, self.flags = self._go(export)
        self.cookie = 0
        self.pending = {}               # cookie -> (offset, length) of a pipelined READ

    def _go(self, export):
        e = export.encode()
        send_option(self.sock, OPT_GO, struct.pack(">I", len(e)) + e + struct.pack(">H", 0))
        size = flags = None
        while True:
            _, rtype, data = read_option_reply(self.sock)
            if rtype == REP_INFO and struct.unpack(">H", data[:2])[0] == 0:
                size, flags = struct.unpack(">QH", data[2:12])
            elif rtype == REP_ACK:
                return size, flags
            elif rtype & (1 << 31):
                raise ProtocolError("GO refused: %#x %r" % (rtype, data))

    def send_request(self, cmd, off, length, flags=0, payload=b""):
        self.cookie += 1
        self.sock.sendall(struct.pack(">IHHQQI", REQ_MAGIC, flags, cmd, self.cookie,
                                      off, length) + payload)
        return self.cookie

    def send_read(self, off, length):
        """A READ whose reply read_reply matches by cookie (pipelining)."""
        cookie = self.send_request(CMD_READ, off, length)
        self.pending[cookie] = (off, length)
        return cookie

    def read_reply(self, read_len=0):
        """Returns (cookie, error, data) of one whole reply."""
        magic = struct.unpack(">I", recv_exact(self.sock, 4))[0]
        if magic == SIMPLE_MAGIC:
            err, cookie = struct.unpack(">IQ", recv_exact(self.sock, 12))
            read_len = self.pending.pop(cookie, (0, read_len))[1]
            data = recv_exact(self.sock, read_len) if err == 0 and read_len else b""
            return cookie, err, data
        if magic != STRUCT_MAGIC:
            raise ProtocolError("bad reply magic %#x" % magic)
        return self._structured(read_len)

    def _structured(self, read_len):
        data = None
        err = 0
        while True:
            flags, rtype, cookie, length = struct.unpack(">HHQI", recv_exact(self.sock, 16))
            base, want = self.pending.get(cookie, (getattr(self, "base", 0), read_len))
            if data is None:
                data = bytearray(want)
            payload = recv_exact(self.sock, length)
            if rtype == 1:
                off = struct.unpack(">Q", payload[:8])[0] - base
                data[off:off + length - 8] = payload[8:]
            elif rtype == 2:
                pass                    # a hole: already zeros
            elif rtype == 5:
                data = payload
            elif rtype & 0x8000:
                err = struct.unpack(">I", payload[:4])[0]
            if flags & 1:
                self.pending.pop(cookie, None)
                return cookie, err, bytes(data)
            magic = struct.unpack(">I", recv_exact(self.sock, 4))[0]
            if magic != STRUCT_MAGIC:
                raise ProtocolError("bad chunk magic")

    def command(self, cmd, off, length, flags=0, payload=b""):
        self.base = off
        cookie = self.send_request(cmd, off, length, flags, payload)
        got, err, data = self.read_reply(length if cmd == CMD_READ else 0)
        if got != cookie:
            raise ProtocolError("reply for cookie %d, expected %d" % (got, cookie))
        return err, data

    def pread(self, off, length):
        err, data = self.command(CMD_READ, off, length)
        if err:
            raise OSError(err, "read at %d+%d failed" % (off, length))
        return data

    def pwrite(self, off, data, flags=0):
        err, _ = self.command(CMD_WRITE, off, len(data), flags, data)
        if err:
            raise OSError(err, "write at %d+%d failed" % (off, len(data)))

    def flush(self):
        err, _ = self.command(CMD_FLUSH, 0, 0)
        if err:
            raise OSError(err, "flush failed")

    def close(self):
        self.send_request(CMD_DISC, 0, 0)
        self.sock.close()
