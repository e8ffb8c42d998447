# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the shell tests' embedded Python: calls through the mock
(so every result is checked against the IDL) in one process, which keeps
the tests fast, plus assertions on the error a call must give."""
import atexit
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xss  # noqa: E402

FILEQCOW = os.path.join(os.environ.get("LQ_XSS_ROOT", ""), "volume", "org.xen.xapi.storage.fileqcow")

# The SR type under test (LQ_SR_TYPE, as tests/lib.sh's lq_sr_type) and
# its volume plugin.
SR_TYPE = os.environ.get("LQ_SR_TYPE") or "fileqcow"
if SR_TYPE not in ("fileqcow", "lvqcow"):
    sys.exit("LQ_SR_TYPE=%s: not an SR type (fileqcow, lvqcow)" % SR_TYPE)
PLUGIN = os.path.join(os.environ.get("LQ_XSS_ROOT", ""), "volume", "org.xen.xapi.storage." + SR_TYPE)
_new_sr_seq = [0]


def _need_dm():
    """Exit 77 (skip) unless a real device-mapper and loop devices are usable."""
    why = None
    if os.geteuid() != 0:
        why = "needs root (device-mapper)"
    elif "linear" not in subprocess.run(["dmsetup", "targets"], capture_output=True, text=True).stdout:
        why = "no device-mapper in this kernel"
    elif subprocess.call(["losetup", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        why = "no free loop device"
    if why:
        print("lvqcow SR: " + why)
        sys.exit(77)


def _drop_pv(dev, path):
    """Remove whatever VG is on loop device dev, detach it, remove its file."""
    r = subprocess.run(["lvm", "pvs", "--noheadings", "-o", "vg_name", dev],
                       capture_output=True, text=True)
    vg = r.stdout.strip()
    if vg:
        subprocess.call(["lvm", "vgremove", "-f", vg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.call(["losetup", "-d", dev], stderr=subprocess.DEVNULL)
    if os.path.exists(path):
        os.unlink(path)


def new_device_config(size="4G"):
    """The device-config of a new SR of SR_TYPE: fileqcow: a new empty
    directory here; lvqcow: a loop device over a new sparse file of size
    (truncate's syntax), undone when the process exits."""
    _new_sr_seq[0] += 1
    base = os.path.join(os.getcwd(), "py%d-%d" % (os.getpid(), _new_sr_seq[0]))
    if SR_TYPE == "fileqcow":
        os.mkdir(base)
        return {"path": base}
    _need_dm()
    path = base + ".img"
    subprocess.check_call(["truncate", "-s", str(size), path])
    try:
        dev = subprocess.check_output(["losetup", "-f", "--show", path], text=True).strip()
    except subprocess.CalledProcessError:
        os.unlink(path)
        raise
    atexit.register(_drop_pv, dev, path)
    return {"device": dev}


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
