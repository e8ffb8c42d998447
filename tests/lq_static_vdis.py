#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every call of the fileqcow and datapath plugins in the command-line
form the toolstack's static-vdis script uses at boot (dbg first, then the
IDL's arguments in order, a dictionary as repeated --<name> KEY VALUE),
with stdin closed.  Each result must be JSON on stdout that passes the
IDL check, and equal the --json form's result for the same call; hostile
or missing arguments must give the error JSON with exit status 1 and
leave the SR unchanged.  The activation rule is checked on the way: no
reader beside a writer, no writer beside readers, sharable or not.

Usage: lq_static_vdis.py WORKDIR   (runs against $LQ_XSS_ROOT)"""
import hashlib
import json
import os
import subprocess
import sys
import uuid as uuidlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import idl  # noqa: E402
import xss  # noqa: E402

ROOT = os.environ["LQ_XSS_ROOT"]
VOL = os.path.join(ROOT, "volume", "org.xen.xapi.storage.fileqcow")
DP = os.path.join(ROOT, "datapath", "lvqcow")
DBG = "static-vdis"


def die(msg):
    print("FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def run(d, name, *args):
    argv = [os.path.join(d, name)] + [a if isinstance(a, bytes) else str(a) for a in args]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout, p.stderr


def idl_name(name):
    for m in idl.RESULTS:
        if m.lower() == name.lower():
            return m
    die("no IDL type for " + name)


def ok(d, name, *args):
    rc, out, err = run(d, name, *args)
    if rc != 0:
        die("%s %s: rc %d: %s %s" % (name, args, rc, out, err[-2000:]))
    try:
        res = json.loads(out)
    except ValueError:
        die("%s: not JSON on stdout: %r" % (name, out))
    try:
        xss.check_result(idl_name(name), res)
    except xss.IdlViolation as e:
        die("%s: %s" % (name, e))
    return res


def same_as_json(d, name, params, cli_result, ignore=()):
    got = xss.call(d, name, dict(params, dbg="t"))
    cli_result = {k: v for k, v in cli_result.items() if k not in ignore}
    got = {k: v for k, v in got.items() if k not in ignore}
    if got != cli_result:
        die("%s: the command-line form gave %r, --json gave %r" % (name, cli_result, got))


def tree_digest(path):
    """Names, kinds, sizes and modification times of everything in the SR
    but its lock (any write moves a file's mtime; the metadata area is
    too big to hash for every refused call)."""
    h = hashlib.sha256()
    for top, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(top, f)
            if f.endswith(".lock"):
                continue
            st = os.lstat(p)
            h.update(("%s %o %d %d %d\0" % (p, st.st_mode, st.st_ino, st.st_size,
                                           st.st_mtime_ns)).encode())
    return h.hexdigest()


def refused(srdir, d, name, *args, want=""):
    before = tree_digest(srdir)
    rc, out, err = run(d, name, *args)
    if rc != 1:
        die("%s %r: expected exit 1, got %d (%r)" % (name, args, rc, out))
    try:
        e = json.loads(out)
    except ValueError:
        die("%s %r: no error JSON on stdout: %r" % (name, args, out))
    if not idl.check_error(e):
        die("%s %r: bad error object %r" % (name, args, e))
    text = json.dumps(e)
    if want not in text:
        die("%s %r: expected %r in %s" % (name, args, want, text))
    if not err:
        die("%s %r: nothing said on stderr" % (name, args))
    if tree_digest(srdir) != before:
        die("%s %r: a refused call changed the SR" % (name, args))


def stdin_left_open():
    """The command-line form never reads stdin: a call whose stdin is a
    pipe nobody writes or closes still ends."""
    p = subprocess.Popen([os.path.join(VOL, "Plugin.Query"), DBG], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        die("the command-line form waited for stdin")
    if p.returncode != 0 or "plugin" not in json.loads(p.stdout.read()):
        die("Plugin.Query with stdin open: rc %d" % p.returncode)
    p.stdin.close()
    p.stdout.close()


def plugin_calls():
    stdin_left_open()
    for d in (VOL, DP):
        q = ok(d, "Plugin.Query", DBG)
        if not isinstance(q["required_cluster_stack"], list):
            die("required_cluster_stack")
        same_as_json(d, "Plugin.Query", {}, q)
        # static-vdis takes the SMAPIv3 path only for an SR type declaring it.
        if d == VOL and "VDI_ATTACH_OFFLINE" not in q["features"]:
            die("the volume plugin does not declare VDI_ATTACH_OFFLINE")
        ok(d, "Plugin.diagnostics", DBG)
    ok(VOL, "Plugin.ls", DBG)


def sr_calls(srdir):
    ok(VOL, "SR.probe", DBG, "--configuration", "path", srdir)
    u = str(uuidlib.uuid4())
    conf = ok(VOL, "SR.create", DBG, u, "--configuration", "path", srdir, "static sr",
              "made from the command line")
    if conf.get("sr_uuid") != u or conf.get("path") != srdir:
        die("SR.create returned %r" % conf)
    sr = ok(VOL, "SR.attach", DBG, "--configuration", "path", srdir,
            "--configuration", "sr_uuid", u)
    if xss.call(VOL, "SR.attach", {"dbg": "t", "configuration": conf}) != sr:
        die("SR.attach: the two forms give different SR strings")
    ok(VOL, "SR.set_name", DBG, sr, "renamed")
    ok(VOL, "SR.set_description", DBG, sr, "described")
    st = ok(VOL, "SR.stat", DBG, sr)
    if (st["name"], st["description"]) != ("renamed", "described"):
        die("SR.stat after set_name/set_description: %r" % st)
    # The host's filesystem is shared: its free space moves on its own.
    same_as_json(VOL, "SR.stat", {"sr": sr}, st, ignore=("free_space",))
    return sr


def volume_calls(sr):
    v = ok(VOL, "Volume.create", DBG, sr, "disk", "a disk", 1 << 20, "false")
    k = v["key"]
    if v["virtual_size"] < 1 << 20 or v["sharable"]:
        die("Volume.create: %r" % v)
    w = ok(VOL, "Volume.create", DBG, sr, "shared", "", 1 << 20, "TRUE")
    if not w["sharable"]:
        die("sharable TRUE was not read as true")
    ok(VOL, "Volume.set", DBG, sr, k, "sm-key", "a value")
    ok(VOL, "Volume.set", DBG, sr, k, "other", "x")
    ok(VOL, "Volume.unset", DBG, sr, k, "other")
    ok(VOL, "Volume.set_name", DBG, sr, k, "--", "-dash-name")
    ok(VOL, "Volume.set_description", DBG, sr, k, "its description")
    ok(VOL, "Volume.resize", DBG, sr, k, 2 << 20)
    st = ok(VOL, "Volume.stat", DBG, sr, k)
    if (st["name"], st["description"], st["keys"]) != ("-dash-name", "its description",
                                                      {"sm-key": "a value"}):
        die("Volume.stat after the setters: %r" % st)
    if st["virtual_size"] < 2 << 20:
        die("Volume.resize did not grow the volume: %r" % st)
    same_as_json(VOL, "Volume.stat", {"sr": sr, "key": k}, st)
    snap = ok(VOL, "Volume.snapshot", DBG, sr, k)
    clone = ok(VOL, "Volume.clone", DBG, sr, snap["key"])
    ok(VOL, "Volume.compose", DBG, sr, clone["key"], w["key"])
    ls = ok(VOL, "SR.ls", DBG, sr)
    if sorted(x["key"] for x in ls) != sorted(x["key"] for x in xss.call(VOL, "SR.ls", {
            "dbg": "t", "sr": sr})):
        die("SR.ls: the two forms list different volumes")
    for x in (snap, clone):
        ok(VOL, "Volume.destroy", DBG, sr, x["key"])
    return st, w


def sharable_rule(srdir, sr, w):
    """A sharable volume takes several writers, but never a reader
    beside them, and a writer never joins readers."""
    uri = w["uri"][0]
    for dom in ("1", "2"):
        ok(DP, "Datapath.attach", DBG, uri, dom)
        ok(DP, "Datapath.activate", DBG, uri, dom)
    refused(srdir, DP, "Datapath.activate_readonly", DBG, uri, "3", want="VDIInUse")
    for dom in ("1", "2"):
        ok(DP, "Datapath.deactivate", DBG, uri, dom)
    ok(DP, "Datapath.activate_readonly", DBG, uri, "1")
    refused(srdir, DP, "Datapath.activate", DBG, uri, "2", want="VDIInUse")
    ok(DP, "Datapath.deactivate", DBG, uri, "1")
    for dom in ("1", "2"):
        ok(DP, "Datapath.detach", DBG, uri, dom)
    ok(VOL, "Volume.destroy", DBG, sr, w["key"])


def datapath_calls(srdir, vol):
    """The static-vdis sequence: attach and activate for domain "0", use
    the first BlockDevice, File or Nbd result; then the other calls."""
    uri = vol["uri"][0]
    ok(DP, "Datapath.open", DBG, uri, "true")
    be = ok(DP, "Datapath.attach", DBG, uri, "0")
    same_as_json(DP, "Datapath.attach", {"uri": uri, "domain": "0"}, be)
    kind, impl = next((n, i) for n, i in be["implementations"]
                      if n in ("BlockDevice", "File", "Nbd"))
    ok(DP, "Datapath.activate", DBG, uri, "0")
    target = impl["path"] if kind != "Nbd" else impl["uri"]
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 64k", target],
                   check=True, stdout=subprocess.DEVNULL, timeout=60)
    r = subprocess.run(["qemu-io", "-f", "raw", "-c", "read -P 0x5a 0 64k", target],
                       check=True, stdout=subprocess.PIPE, timeout=60)
    if b"read 65536" not in r.stdout:
        die("data written through %s did not read back" % kind)
    refused(srdir, DP, "Datapath.activate_readonly", DBG, uri, "1", want="VDIInUse")
    ok(DP, "Datapath.deactivate", DBG, uri, "0")
    ok(DP, "Datapath.activate_readonly", DBG, uri, "1")
    ok(DP, "Datapath.deactivate", DBG, uri, "1")
    ok(DP, "Datapath.detach", DBG, uri, "0")
    ok(DP, "Datapath.close", DBG, uri)


def hostile(srdir, sr, key):
    uri = ok(VOL, "Volume.stat", DBG, sr, key)["uri"][0]
    H = [
        (VOL, ["SR.stat"], "argument missing"),
        (VOL, ["SR.stat", DBG], "argument missing"),
        (VOL, ["Volume.stat", DBG, sr], "argument missing"),
        (VOL, ["Volume.stat", DBG, sr, key, "extra"], "unexpected argument"),
        (VOL, ["Volume.stat", DBG, "--bogus", "a", "b", sr, key], "unknown option"),
        (VOL, ["Volume.stat", DBG, sr, "-k"], "unknown option"),
        (VOL, ["Volume.stat", DBG, "--configuration", "a", "b", sr, key], "unknown option"),
        (VOL, ["Volume.stat", DBG, sr, "--conf"], "unknown option"),
        (VOL, ["Volume.create", DBG, sr, "n", "d"], "argument missing"),
        (VOL, ["Volume.create", DBG, sr, "n", "d", "10x", "false"], "expected=int64"),
        (VOL, ["Volume.create", DBG, sr, "n", "d", " 10", "false"], "expected=int64"),
        (VOL, ["Volume.create", DBG, sr, "n", "d", "", "false"], "expected=int64"),
        (VOL, ["Volume.create", DBG, sr, "n", "d", "1048576", "yes"], "expected=bool"),
        (VOL, ["Volume.create", DBG, sr, "n", "d", "1048576", "1"], "expected=bool"),
        (VOL, ["Volume.create", DBG, sr, "n", "d", "99999999999999999999", "false"],
         "out of range"),
        (VOL, ["Volume.create", DBG, sr, "n", "d", "-1", "false"], ""),
        (VOL, ["Volume.resize", DBG, sr, key, "-9223372036854775809"], "out of range"),
        (VOL, ["Volume.set", DBG, sr, key, "k", b"\xff\xfe"], "UTF-8"),
        (VOL, ["Volume.set_name", DBG, sr, key, b"caf\xc3"], "UTF-8"),
        (VOL, ["SR.attach", DBG], "path"),
        (VOL, ["SR.attach", DBG, "--configuration", "path"], "takes a key and a value"),
        (VOL, ["SR.attach", DBG, "--configuration", "path", srdir, "--configuration",
               "path", srdir], "given twice"),
        (VOL, ["SR.attach", DBG, "--configuration", b"p\xffth", srdir], "UTF-8"),
        (VOL, ["SR.create", DBG, str(uuidlib.uuid4()), "--configuration", "path", srdir,
               "n"], "argument missing"),
        (DP, ["Datapath.attach", DBG, uri], "argument missing"),
        (DP, ["Datapath.open", DBG, uri, "maybe"], "expected=bool"),
        (DP, ["Datapath.activate", DBG, uri, "0", "0"], "unexpected argument"),
        (DP, ["Datapath.activate", DBG, "lvqcow://fileqcow/nope/x", "0"], ""),
    ]
    for d, argv, want in H:
        refused(srdir, d, *argv, want=want)


def main(work):
    srdir = os.path.realpath(os.path.join(work, "sr"))
    os.makedirs(srdir, exist_ok=True)
    plugin_calls()
    sr = sr_calls(srdir)
    vol, shared = volume_calls(sr)
    hostile(srdir, sr, vol["key"])
    datapath_calls(srdir, vol)
    sharable_rule(srdir, sr, shared)
    ok(VOL, "Volume.destroy", DBG, sr, vol["key"])
    ok(VOL, "SR.detach", DBG, sr)
    sr = ok(VOL, "SR.attach", DBG, "--configuration", "path", srdir)
    ok(VOL, "SR.destroy", DBG, sr)
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1])
