# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where a test finds an SR's metadata area and images, for both SR types.

fileqcow: the SR string is a directory; the area is <sr>/lvqcow-sr.meta
and images are files <sr>/images/<image>.
lvqcow: the SR string is /dev/<vg>; the area is the LV <sr>/sr-meta and
images are LVs <sr>/<image>.  An LV is a device only while active, and
the plugin deactivates what no one holds, so every access here first
activates the whole VG with the lvm binary (behind the plugin's back,
which it tolerates: it re-activates what it needs and deactivates what
no holder keeps)."""
import os
import subprocess

SR_TYPE = os.environ.get("LQ_SR_TYPE", "fileqcow")
LVM = SR_TYPE == "lvqcow"


def vg(sr):
    return os.path.basename(sr)


def _lvm(*args):
    return subprocess.run(["lvm"] + list(args), check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout.decode()


def activate(sr):
    """Make every image of an lvqcow SR a device (nothing for fileqcow)."""
    if LVM:
        _lvm("vgchange", "-q", "-ay", vg(sr))


def area(sr):
    if LVM:
        activate(sr)
        return os.path.join(sr, "sr-meta")
    return os.path.join(sr, "lvqcow-sr.meta")


def image_path(sr, image):
    if LVM:
        activate(sr)
        return os.path.join(sr, image)
    return os.path.join(sr, "images", image)


def images(sr):
    """The names where images live (LVs other than the area and the
    quarantine, or the files of images/)."""
    if LVM:
        out = _lvm("lvs", "--noheadings", "-o", "lv_name", vg(sr)).split()
        return sorted(n for n in out if n.startswith("n-"))
    return sorted(os.listdir(os.path.join(sr, "images")))


def make_room(path, nbytes):
    """Room for nbytes more of data and their metadata in a detached
    image that a test writes behind the plugin (an LV has a fixed size;
    the plugin would inflate the leaf of an attached volume)."""
    if LVM:
        _lvm("lvextend", "-q", "-L", "+%db" % ((nbytes + (4 << 20) + 511) // 512 * 512),
             path)


def config(path_or_device):
    """The device-config for an SR at a directory (fileqcow) or on a
    device (lvqcow)."""
    return {"device": path_or_device} if LVM else {"path": path_or_device}
