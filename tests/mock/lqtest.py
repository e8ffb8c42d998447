"""Helpers for the shell tests' embedded Python: calls through the mock
(so every result is checked against the IDL) in one process, which keeps
the tests fast, plus assertions on the error a call must give."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xss  # noqa: E402

FILEQCOW = os.path.join(os.environ.get("LQ_XSS_ROOT", ""), "volume", "org.xen.xapi.storage.fileqcow")


class Failed(Exception):
    pass


def check(what, cond, detail=""):
    if not cond:
        raise Failed("%s %s" % (what, detail))


def eq(what, want, got):
    if want != got:
        raise Failed("%s: expected %r, got %r" % (what, want, got))


def call(method, plugin=FILEQCOW, **params):
    params.setdefault("dbg", "test")
    return xss.call(plugin, method, params)


def error(method, plugin=FILEQCOW, **params):
    """The call must fail with a well-formed error; returns [code] + params
    with SR_BACKEND_FAILURE folded away (its params[0] comes first)."""
    params.setdefault("dbg", "test")
    try:
        r = xss.call(plugin, method, params)
    except xss.XapiError as e:
        check("%s: error kind" % method, e.exit_code == 1, "%s %r (not the plugin's error JSON)" % (e.code, e.params))
        return e.params if e.code == "SR_BACKEND_FAILURE" else [e.code] + e.params
    raise Failed("%s %r: succeeded with %r" % (method, params, str(r)[:200]))


def sr_dump(sr):
    """Everything a call may change in a fileqcow SR."""
    out = []
    for root, dirs, files in os.walk(sr):
        for f in sorted(files + dirs):
            p = os.path.join(root, f)
            data = b""
            if os.path.isfile(p) and not p.endswith(".lock"):
                with open(p, "rb") as fh:
                    data = fh.read()
            out.append((p, os.lstat(p).st_mode, len(data), hashlib.md5(data).hexdigest()))
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


# ---- the SR metadata area (docs/metadata.md) ----
AREA = "lvqcow-sr.meta"
BLOCK = 4096


def area_geometry(path):
    """(wal_start, wal_blocks, index_start, nbuckets, bitmap_start,
    bitmap_blocks, rec_start, rec_blocks) from the first superblock."""
    import struct
    with open(path, "rb") as f:
        sb = f.read(BLOCK)
    assert sb[:8] == b"LQMETASB", "no superblock"
    return struct.unpack_from("<8I", sb, 32)


def area_entries(path):
    """Every index entry: (uuid hex, kind, first block, nblocks)."""
    import struct
    g = area_geometry(path)
    out = []
    with open(path, "rb") as f:
        f.seek(g[2] * BLOCK)
        ix = f.read(g[3] * BLOCK)
    for b in range(g[3]):
        blk = ix[b * BLOCK:(b + 1) * BLOCK]
        count = struct.unpack_from("<I", blk, 4)[0]
        for i in range(count):
            e = blk[16 + 32 * i:48 + 32 * i]
            out.append((e[:16].hex(), e[16], struct.unpack_from("<I", e, 20)[0],
                        struct.unpack_from("<H", e, 18)[0]))
    return out


def area_records(path, kind):
    """Parsed XML root elements of the records of kind (1 SR, 2 volume,
    3 node, 4 journal), as read from their home blocks."""
    import struct
    import xml.dom.minidom
    out = []
    with open(path, "rb") as f:
        for _, k, first, n in area_entries(path):
            if k != kind:
                continue
            f.seek(first * BLOCK)
            run = f.read(n * BLOCK)
            ln = struct.unpack_from("<I", run, 24)[0]
            out.append(xml.dom.minidom.parseString(run[32:32 + ln]).documentElement)
    return out


def area_block_of(path, kind):
    """First block of the first record of kind."""
    return [e[2] for e in area_entries(path) if e[1] == kind][0]
