#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile and broken clients: truncated handshakes, unknown options and
# flags, bad magic, out-of-range and oversize requests, unknown commands,
# a client vanishing in the middle of a WRITE payload.  After each one the
# server must still serve a good client, and at the end the image must be
# clean with exactly the content the good requests wrote.
. "$LQ_TOP/tests/lib.sh"
size=$((16 << 20))
qemu-img create -q -f qcow2 img.qcow2 $size
nbd_start vol img.qcow2

nbd_raw - "$PWD/vol.sock" $size <<'PY'
import os, socket, struct, sys, time
import nbd_raw as n

path, size = sys.argv[1], int(sys.argv[2])
model = bytearray(size)
step = 0

def good():
    """A well-behaved client writes a fresh block and reads it back."""
    global step
    step += 1
    c = n.Client(path, "vol", structured=step % 2 == 0)
    off = (step * 65536 + 512) % (size - 8192)
    data = os.urandom(4096)
    c.pwrite(off, data)
    model[off:off + 4096] = data
    assert c.pread(off, 4096) == data, "read back differs"
    c.close()

def dropped(s):
    """The server must end this connection (EOF, no reply)."""
    try:
        while s.recv(65536):
            pass
    except (ConnectionResetError, socket.timeout) as e:
        if isinstance(e, socket.timeout):
            raise AssertionError("server kept a bad client")
    s.close()

def send_quiet(s, data):
    """Sends what the server still reads; it may hang up first."""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass

def case(name):
    print("== " + name, flush=True)

def hs(flags=3):
    s = n.connect(path, timeout=20)
    n.greeting(s)
    s.sendall(struct.pack(">I", flags))
    return s

def expect_err(c, cmd, off, length, flags, want, payload=b""):
    err, _ = c.command(cmd, off, length, flags, payload)
    assert err == want, "%s: expected error %d, got %d" % (case_name, want, err)

good()
case("connect and close at once"); n.connect(path).close(); good()
case("truncated greeting read"); s = n.connect(path); s.recv(5); s.close(); good()
case("half the client flags")
s = n.connect(path); n.greeting(s); s.sendall(b"\0\0"); s.close(); good()
case("unknown client flags"); dropped(hs(0x80)); good()
case("garbage instead of an option"); s = hs(); send_quiet(s, os.urandom(4096)); dropped(s); good()
case("option header cut short"); s = hs(); s.sendall(struct.pack(">Q", n.OPT_MAGIC) + b"\0\0"); s.close(); good()

case("unknown options are answered ERR_UNSUP and the session goes on")
s = hs()
for opt in (0, 4, 5, 11, 99, 0xFFFFFFFF):
    n.send_option(s, opt, b"xyz")
    o, rtype, _ = n.read_option_reply(s)
    assert o == opt and rtype == (1 << 31) + 1, "option %d: reply %#x" % (opt, rtype)
n.send_option(s, n.OPT_LIST)
assert n.read_option_reply(s)[1] == 2
assert n.read_option_reply(s)[1] == n.REP_ACK
n.send_option(s, n.OPT_LIST, b"x")
assert n.read_option_reply(s)[1] == (1 << 31) + 3
n.send_option(s, n.OPT_STRUCTURED, b"x")
assert n.read_option_reply(s)[1] == (1 << 31) + 3
n.send_option(s, n.OPT_SET_META, b"\0\0\0\5")          # truncated name
assert n.read_option_reply(s)[1] & (1 << 31)
n.send_option(s, n.OPT_GO, struct.pack(">I", 7) + b"nothere" + b"\0\0")
assert n.read_option_reply(s)[1] == (1 << 31) + 6
n.send_option(s, n.OPT_GO, struct.pack(">I", 100) + b"short")
assert n.read_option_reply(s)[1] == (1 << 31) + 3
n.send_option(s, n.OPT_ABORT)
assert n.read_option_reply(s)[1] == n.REP_ACK
s.close(); good()

case("oversize option data is refused, the session goes on")
s = hs(); n.send_option(s, 7, b"\0" * 200000)
assert n.read_option_reply(s)[1] == (1 << 31) + 9
s.close(); good()
case("absurd option length"); s = hs()
s.sendall(struct.pack(">QII", n.OPT_MAGIC, 7, 0xFFFFFFF0)); dropped(s); good()
case("bad option magic"); s = hs(); s.sendall(struct.pack(">QII", 1234, 7, 0)); dropped(s); good()
case("unknown export by EXPORT_NAME"); s = hs(); n.send_option(s, n.OPT_EXPORT_NAME, b"nope"); dropped(s); good()
case("export name with a NUL"); s = hs(); n.send_option(s, n.OPT_EXPORT_NAME, b"v\0l"); dropped(s); good()

for structured in (False, True):
    c = n.Client(path, "vol", structured=structured)
    case_name = "structured=%s" % structured
    case("out-of-range and malformed requests, " + case_name)
    expect_err(c, n.CMD_READ, size - 512, 1024, 0, n.EINVAL)
    expect_err(c, n.CMD_READ, (1 << 64) - 512, 1024, 0, n.EINVAL)
    expect_err(c, n.CMD_WRITE, size - 512, 1024, 0, n.ENOSPC, b"\xee" * 1024)
    expect_err(c, n.CMD_WRITE_ZEROES, size, 4096, 0, n.ENOSPC)
    expect_err(c, n.CMD_TRIM, size + 4096, 4096, 0, n.EINVAL)
    expect_err(c, n.CMD_READ, 0, 64 << 20, 0, n.EOVERFLOW)
    expect_err(c, 42, 0, 4096, 0, n.EINVAL)
    expect_err(c, n.CMD_READ, 0, 4096, 0x8000, n.EINVAL)
    expect_err(c, n.CMD_WRITE_ZEROES, 0, 4096, n.FLAG_REQ_ONE, n.EINVAL)
    expect_err(c, n.CMD_FLUSH, 4096, 0, 0, n.EINVAL)
    expect_err(c, n.CMD_BLOCK_STATUS, 0, 4096, 0, n.EINVAL)   # no context negotiated
    if not structured:
        expect_err(c, n.CMD_READ, 0, 4096, n.FLAG_DF, n.EINVAL)
    assert c.pread(0, 4096) == bytes(model[:4096])
    c.close(); good()

case("unaligned, FUA and zero-length requests work")
c = n.Client(path, "vol", structured=True)
data = os.urandom(777)
c.pwrite(12345, data, n.FLAG_FUA); model[12345:12345 + 777] = data
assert c.pread(12000, 2000) == bytes(model[12000:14000])
assert c.command(n.CMD_READ, 100, 0)[0] == 0
assert c.command(n.CMD_WRITE, 100, 0)[0] == 0
c.close(); good()

case("bad request magic drops the connection")
c = n.Client(path, "vol"); send_quiet(c.sock, b"\x25\x60\x95\x14" + b"\0" * 24); dropped(c.sock); good()
case("oversize WRITE drops the connection")
c = n.Client(path, "vol")
send_quiet(c.sock, struct.pack(">IHHQQI", n.REQ_MAGIC, 0, n.CMD_WRITE, 1, 0, 64 << 20) + b"\xdd" * 65536)
dropped(c.sock); good()
case("request header cut short"); c = n.Client(path, "vol"); c.sock.sendall(b"\x25\x60"); c.sock.close(); good()

case("disconnect in the middle of a WRITE payload: nothing is written")
off = 3 << 20
c = n.Client(path, "vol")
c.sock.sendall(struct.pack(">IHHQQI", n.REQ_MAGIC, 0, n.CMD_WRITE, 9, off, 1 << 20) + b"\xcc" * (512 << 10))
c.sock.close()
time.sleep(0.2)
c = n.Client(path, "vol"); assert c.pread(off, 1 << 20) == bytes(model[off:off + (1 << 20)]); c.close()
good()

case("many requests in flight, then a disconnect without reading replies")
c = n.Client(path, "vol", structured=True)
for i in range(200):
    send_quiet(c.sock, struct.pack(">IHHQQI", n.REQ_MAGIC, 0, n.CMD_READ, i, (i * 4096) % size, 4096))
c.sock.close(); good()

case("random garbage after a good handshake")
for i in range(20):
    c = n.Client(path, "vol", structured=i % 2 == 0)
    send_quiet(c.sock, os.urandom(1000 + i * 37))
    c.sock.close()
good()

open("model.raw", "wb").write(model)
print("all cases passed")
PY

note "the server survived and stops cleanly"
nbd_ctl vol status
nbd_stop vol
qcheck img.qcow2
raw_of img.qcow2 final.raw
cmp_files final.raw model.raw

note "a read-only export refuses writes with EPERM"
nbd_start ro img.qcow2 --readonly
nbd_raw - "$PWD/ro.sock" <<'PY'
import sys
import nbd_raw as n
c = n.Client(sys.argv[1], "ro")
for cmd in (n.CMD_WRITE, n.CMD_TRIM, n.CMD_WRITE_ZEROES):
    err, _ = c.command(cmd, 0, 512, 0, b"\1" * 512 if cmd == n.CMD_WRITE else b"")
    assert err == n.EPERM, "command %d: error %d" % (cmd, err)
c.close()
PY
nbd_stop ro
raw_of img.qcow2 final2.raw
cmp_files final2.raw model.raw
