# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_syslog: the syslog lines of a call sequence, read from a syslog
socket this test owns (LVQCOW_SYSLOG_SOCKET).

Each call logs a start and an end line, facility daemon, tag lvqcow,
carrying the dbg string; the test follows calls by their dbg from start
to end, checks the result and error codes, that a hostile dbg (newlines,
control characters, quotes, 10 kB) stays one well-formed line, that the
lines do not reach stderr, that the collector logs a coalesce's progress,
and that LVQCOW_SYSLOG=0 turns it all off.
Prints OK, or the first failure and exits 1."""
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lq_tree as t  # noqa: E402
from lqtest import FILEQCOW, call, error, eq, check, main  # noqa: E402

LOG_DAEMON = 3 << 3
INFO, ERR = 6, 3
LINE = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d lvqcow\[(\d+)\]: (.*)$")
FIELD = re.compile(r' ([a-z]+)="((?:[^"\\]|\\[nrt\\]|\\x[0-9a-f]{2})*)"')


class Syslog:
    """A datagram socket standing in for /dev/log, read by a thread."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.grams, self.stop, self.lock = [], False, threading.Lock()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        while not self.stop:
            try:
                g = self.sock.recv(65536)
            except socket.timeout:
                continue
            with self.lock:
                self.grams.append(g)

    def take(self):
        """Everything received so far (the calls have returned, so their
        datagrams are queued); parsed as (pri, pid, message)."""
        time.sleep(0.5)
        with self.lock:
            got, self.grams = self.grams, []
        out = []
        for g in got:
            text = g.decode("ascii")  # non-ASCII is escaped: this must not fail
            m = LINE.match(text)
            check("RFC 3164 line", m is not None and "\n" not in text, repr(text[:300]))
            out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
        return out


def fields(msg):
    return dict(FIELD.findall(msg))


def follow(lines, dbg):
    """The start and end line of the one call with this (escaped) dbg."""
    mine = [ln for ln in lines if ln[2].startswith("call ") and fields(ln[2]).get("dbg") == dbg]
    eq("lines of dbg %r" % dbg, 2, len(mine))
    start, end = mine
    check("start line", re.match(r"call \S+ start( |$)", start[2]), start[2])
    check("end line", re.match(r"call \S+ end .*result=(ok|error) ms=\d+", end[2]), end[2])
    eq("one process", start[1], end[1])
    eq("start priority", LOG_DAEMON | INFO, start[0])
    return start[2], end[2]


def sequence(log, srdir):
    sr = t.new_sr(srdir)
    v = call("Volume.create", sr=sr, name="v", description="", size=32 * t.MIB,
             sharable=False, dbg="OpaqueRef:create|vdi-create")
    call("Volume.stat", sr=sr, key=v["key"], dbg="OpaqueRef:stat-1")
    eq("error", "Volume_does_not_exist",
       error("Volume.stat", sr=sr, key="nosuchkey", dbg="OpaqueRef:stat-missing")[0])
    lines = log.take()

    start, end = follow(lines, "OpaqueRef:stat-1")
    eq("start fields", {"dbg": "OpaqueRef:stat-1", "sr": sr, "key": v["key"]}, fields(start))
    check("start names the call", start.startswith("call Volume.stat start "), start)
    check("end names the call and the result",
          end.startswith("call Volume.stat end ") and " result=ok " in end, end)
    eq("end fields", {"dbg": "OpaqueRef:stat-1", "sr": sr, "key": v["key"]}, fields(end))

    start, end = follow(lines, "OpaqueRef:stat-missing")
    check("the error's end", " result=error " in end, end)
    f = fields(end)
    eq("code", "SR_BACKEND_FAILURE", f.get("code"))
    eq("error name", "Volume_does_not_exist", f.get("error"))
    check("error message", "nosuchkey" in f.get("msg", ""), end)
    pri = [ln[0] for ln in lines if ln[2] == end][0]
    eq("error priority", LOG_DAEMON | ERR, pri)

    start, end = follow(lines, "OpaqueRef:create|vdi-create")
    check("created", "call Volume.create end" in end and "result=ok" in end, end)
    return sr, v


def hostile(log, sr):
    dbg = 'evil\n<27>Nov 28 00:00:00 lvqcow[1]: call SR.stat end dbg="forged" result=ok\r\x1b[2J\x7f\u00e9' + "A" * 10000
    call("SR.stat", sr=sr, dbg=dbg)
    lines = log.take()
    calls = [ln for ln in lines if ln[2].startswith("call ")]
    eq("hostile dbg: start and end only", 2, len(calls))
    for _, _, msg in calls:
        f = fields(msg)
        check("dbg escaped", f.get("dbg", "").startswith(
            "evil\\n<27>Nov 28 00:00:00 lvqcow[1]: call SR.stat end dbg=\\x22forged\\x22 result=ok\\r\\x1b[2J\\x7f\\xc3\\xa9A"), msg[:300])
        check("dbg cut", f["dbg"].endswith("AA...") and len(f["dbg"]) < 400, len(f["dbg"]))
        eq("sr after the dbg", sr, f.get("sr"))
        bare = FIELD.sub("", msg)
        check("nothing outside the quoted fields but ours",
              re.fullmatch(r"call SR\.stat (start|end result=ok ms=\d+)", bare), bare)


def stderr_unchanged(log, sr):
    p = subprocess.run([os.path.join(FILEQCOW, "SR.stat"), "--json"], capture_output=True,
                       input=('{"dbg":"OpaqueRef:direct","sr":"%s"}' % sr).encode())
    eq("SR.stat status", 0, p.returncode)
    eq("nothing new on stderr", b"", p.stderr)
    follow(log.take(), "OpaqueRef:direct")


def coalesce(log, sr, v):
    # scattered extents on both sides: the copy walks many of them
    for i in range(8):
        t.write(sr, v["key"], i * 4 * t.MIB, t.pattern(i, 65536))
    s = call("Volume.snapshot", sr=sr, key=v["key"])
    for i in range(8):
        t.write(sr, v["key"], i * 4 * t.MIB + 2 * t.MIB, t.pattern(10 + i, 65536))
    call("Volume.destroy", sr=sr, key=s["key"])
    log.take()
    subprocess.run([t.LQ, "gc", sr], check=True, stdout=subprocess.DEVNULL)
    msgs = [ln[2] for ln in log.take()]
    prog = [m for m in msgs if re.search(r"gc: coalescing node \S+ \((up|down)\): \d+%", m)]
    check("progress lines", len(prog) >= 5, "\n".join(msgs))
    check("progress ends at 100%", ": 100%," in prog[-1], prog[-1])
    eq("depth after gc", 1, t.depth(sr, v["key"]))


def switched_off(log, sr):
    os.environ["LVQCOW_SYSLOG"] = "0"
    try:
        call("SR.stat", sr=sr, dbg="OpaqueRef:quiet")
        eq("LVQCOW_SYSLOG=0: lines", [], log.take())
    finally:
        del os.environ["LVQCOW_SYSLOG"]


def test():
    path = os.path.abspath("syslog.sock")
    log = Syslog(path)
    os.environ["LVQCOW_SYSLOG_SOCKET"] = path
    os.environ.pop("LVQCOW_SYSLOG", None)  # the default: on (tests/run.sh turns it off)
    os.environ["LVQCOW_GC_AUTO"] = "0"
    sr, v = sequence(log, os.path.abspath("sr"))
    hostile(log, sr)
    stderr_unchanged(log, sr)
    coalesce(log, sr, v)
    switched_off(log, sr)
    log.stop = True


main(test)
