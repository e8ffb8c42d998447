# SPDX-License-Identifier: LGPL-2.1-or-later
"""The one place the tests read and craft fileqcow SR metadata by hand.

The metadata is the area file lvqcow-sr.meta (docs/metadata.md): 4 KiB
blocks, two superblocks, a write-ahead log, a hash index, an allocation
bitmap and records of one XML element each.  When the layout changes,
only this module changes."""
import os
import shutil
import struct
import uuid
import xml.dom.minidom
import zlib

AREA = "lvqcow-sr.meta"
BLOCK = 4096
REC_HDR = 32
KIND_SR, KIND_VOLUME, KIND_NODE, KIND_JOURNAL = 1, 2, 3, 4


def _path(sr):
    return os.path.join(sr, AREA)


def save(sr, dest):
    """Copy the SR's metadata to dest (an operator's backup)."""
    shutil.copyfile(_path(sr), dest)


def restore(sr, src):
    """Put a backup copy back in place."""
    shutil.copyfile(src, _path(sr))


def area_geometry(path):
    """(wal_start, wal_blocks, index_start, nbuckets, bitmap_start,
    bitmap_blocks, rec_start, rec_blocks) from the first superblock."""
    with open(path, "rb") as f:
        sb = f.read(BLOCK)
    assert sb[:8] == b"LQMETASB", "no superblock"
    return struct.unpack_from("<8I", sb, 32)


def area_entries(path):
    """Every index entry: (uuid hex, kind, first block, nblocks)."""
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


def _runs(path, kind):
    with open(path, "rb") as f:
        for _, k, first, n in area_entries(path):
            if k == kind:
                f.seek(first * BLOCK)
                yield first, f.read(n * BLOCK)


def area_records(path, kind):
    """Parsed XML root elements of the records of kind (KIND_*), as read
    from their home blocks."""
    out = []
    for _, run in _runs(path, kind):
        ln = struct.unpack_from("<I", run, 24)[0]
        out.append(xml.dom.minidom.parseString(run[REC_HDR:REC_HDR + ln]).documentElement)
    return out


def area_block_of(path, kind):
    """First block of the first record of kind."""
    return [e[2] for e in area_entries(path) if e[1] == kind][0]


def _forget_wal(path):
    """Drop the log of the last (applied) transaction, so that the next
    writer's replay does not undo a hand edit of a home block."""
    g = area_geometry(path)
    with open(path, "r+b") as f:
        f.seek(g[0] * BLOCK)
        f.write(bytes(BLOCK))


def set_node_image(sr, old, new):
    """Make the node whose image is old name image new, resealed."""
    path = _path(sr)
    attr = b'image="%s"' % old.encode()
    for first, run in _runs(path, KIND_NODE):
        ln = struct.unpack_from("<I", run, 24)[0]
        payload = run[REC_HDR:REC_HDR + ln]
        if attr not in payload:
            continue
        payload = payload.replace(attr, b'image="%s"' % new.encode())
        assert REC_HDR + len(payload) <= len(run), "edited record outgrows its blocks"
        hdr = bytearray(run[:REC_HDR])
        struct.pack_into("<I", hdr, 24, len(payload))
        crc = zlib.crc32(payload, zlib.crc32(bytes(hdr[:28])))
        struct.pack_into("<I", hdr, 28, crc & 0xffffffff)
        body = bytes(hdr) + payload
        _forget_wal(path)
        with open(path, "r+b") as f:
            f.seek(first * BLOCK)
            f.write(body + bytes(len(run) - len(body)))
        return
    raise AssertionError("no node names %s" % old)


def new_sr(path, name="sr"):
    """Create and attach a fileqcow SR in path (created); returns the SR string."""
    from lqtest import call
    os.makedirs(path, exist_ok=True)
    config = {"path": os.path.realpath(path)}
    call("SR.create", uuid=str(uuid.uuid4()), configuration=config, name=name, description="")
    return call("SR.attach", configuration=config)


def reattach(sr):
    """SR.detach and SR.attach, which runs the orphan sweep."""
    from lqtest import call
    call("SR.detach", sr=sr)
    return call("SR.attach", configuration={"path": sr})


def images(sr, sub="images"):
    d = os.path.join(sr, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []
