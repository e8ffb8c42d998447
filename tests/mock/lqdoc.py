"""The one place the tests craft fileqcow SR metadata by hand.

The document is lvqcow-sr.xml, sealed by a last line
"<!-- crc32 XXXXXXXX -->" (zlib crc32 of every byte before it).  When the
metadata format changes, only this module changes."""
import os
import re
import shutil
import uuid
import zlib

DOC = "lvqcow-sr.xml"
TRAILER = re.compile(rb"<!-- crc32 [0-9a-f]{8} -->\n?\Z")


def _path(sr):
    return os.path.join(sr, DOC)


def save(sr, dest):
    """Copy the SR's metadata to dest (an operator's backup)."""
    shutil.copyfile(_path(sr), dest)


def restore(sr, src):
    """Put a backup copy back in place."""
    shutil.copyfile(src, _path(sr))


def set_node_image(sr, old, new):
    """Make the node whose image is old name image new, resealed."""
    with open(_path(sr), "rb") as f:
        doc = f.read()
    m = TRAILER.search(doc)
    assert m, "document without its trailer"
    body = doc[:m.start()]
    attr = b'image="%s"' % old.encode()
    assert attr in body, "no node names %s" % old
    body = body.replace(attr, b'image="%s"' % new.encode())
    with open(_path(sr), "wb") as f:
        f.write(body + b"<!-- crc32 %08x -->\n" % (zlib.crc32(body) & 0xffffffff))


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
