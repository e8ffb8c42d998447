# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the shell tests' embedded Python: calls through the mock
(so every result is checked against the IDL) in one process, which keeps
the tests fast, plus assertions on the error a call must give."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xss  # noqa: E402

FILEQCOW = os.path.join(os.environ.get("LQ_XSS_ROOT", ""), "volume", "org.xen.xapi.storage.fileqcow")
# The plugin of the SR type under test (LQ_SR_TYPE, fileqcow by default).
PLUGIN = os.path.join(os.environ.get("LQ_XSS_ROOT", ""), "volume",
                      "org.xen.xapi.storage." + os.environ.get("LQ_SR_TYPE", "fileqcow"))


class Failed(Exception):
    pass


def check(what, cond, detail=""):
    if not cond:
        raise Failed("%s %s" % (what, detail))


def eq(what, want, got):
    if want != got:
        raise Failed("%s: expected %r, got %r" % (what, want, got))


def call(method, plugin=PLUGIN, **params):
    params.setdefault("dbg", "test")
    return xss.call(plugin, method, params)


def error(method, plugin=PLUGIN, **params):
    """The call must fail with a well-formed error; returns [code] + params
    with SR_BACKEND_FAILURE folded away (its params[0] comes first)."""
    params.setdefault("dbg", "test")
    try:
        r = xss.call(plugin, method, params)
    except xss.XapiError as e:
        check("%s: error kind" % method, e.exit_code == 1, "%s %r (not the plugin's error JSON)" % (e.code, e.params))
        return e.params if e.code == "SR_BACKEND_FAILURE" else [e.code] + e.params
    raise Failed("%s %r: succeeded with %r" % (method, params, str(r)[:200]))


def _file_digest(path):
    """md5 of a file's bytes, reading only its data extents: the metadata
    area is a large sparse file."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        fd, end, pos = f.fileno(), os.fstat(f.fileno()).st_size, 0
        while pos < end:
            try:
                pos = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            stop = os.lseek(fd, pos, os.SEEK_HOLE)
            f.seek(pos)
            h.update(b"%d:" % pos + f.read(stop - pos))
            pos = stop
    return h.hexdigest()


def sr_dump(sr):
    """Everything a call may change in a fileqcow SR."""
    out = []
    for root, dirs, files in os.walk(sr):
        for f in sorted(files + dirs):
            p = os.path.join(root, f)
            data = b""
            if os.path.isfile(p) and not p.endswith(".lock"):
                data = _file_digest(p)
            out.append((p, os.lstat(p).st_mode, os.lstat(p).st_size, data))
    return sorted(out)


def main(fn):
    try:
        fn()
    except (Failed, xss.XapiError, xss.IdlViolation) as e:
        if isinstance(e, xss.XapiError):
            print("FAILED: unexpected error %s %r" % (e.code, e.params))
        else:
            print("FAILED: %s" % e)
        sys.exit(1)
    print("OK")


# The SR metadata area is crafted in one place, lqdoc.
from lqdoc import AREA, BLOCK, area_geometry, area_entries, area_records, area_block_of  # noqa: E402,F401
