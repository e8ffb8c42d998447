#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""lvm-replay.py LAYER VG CMDS: the cost of one call's LVM commands, run
again outside the call, (1) in one fresh process through src/lvm
(LAYER = bench/lvm-layer -r) and (2) as the lvm binary, one process per
command.  CMDS holds the command lines the call logged (LVQCOW_DEBUG=1,
"lvm: " stripped), in order.  Prints "INPROC_MS FIRST_MS BINARY_MS" (a command that failed in the
call, e.g. a lookup of an LV not made yet, fails here too and counts).

The call changed the VG, so its lines cannot run again as they are:
every LV a changing command names (lvcreate -n, lvremove, lvresize,
lvextend, lvrename, lvchange) is replaced by a twin LV of its own.  A twin the
lines do not create is made before the timed run, unzeroed, and active
when the first activation change the lines make to it is a deactivation
(inactive otherwise); every twin is removed after each run: neither is
timed.  Reports (lvs, vgs, pvs) run as
logged.  The twins start at 4 MiB (68 MiB when a resize goes to 8 MiB or
less: a deflate), so a twin's resize or activation is the same LVM
work as the original's, not the same data.  Each command's in-process ms goes to
CMDS.times."""
import shlex
import subprocess
import sys
import time

CHANGING = {"lvcreate", "lvremove", "lvresize", "lvextend", "lvrename", "lvchange"}
MIB = 1 << 20


def lvm(*args, check=True):
    subprocess.run(["lvm", *args], check=check, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Twins:
    """The LV names the lines change, their twins and how to prepare them."""

    def __init__(self, vg):
        self.vg, self.map, self.events = vg, {}, {}

    def name(self, lv, event):
        """lv's twin; event (what this line does to lv) is noted."""
        if lv not in self.map:
            self.map[lv] = "bz%d-%s" % (len(self.map), lv[:40])
            self.events[lv] = []
        self.events[lv].append(event)
        return self.map[lv]

    def rewrite(self, words):
        """words of one command line with the changed LVs' names replaced."""
        verb, vg, out = words[0], self.vg, list(words)
        if verb not in CHANGING:
            return out
        for i, w in enumerate(words):
            if w.startswith(vg + "/"):
                out[i] = vg + "/" + self.name(w[len(vg) + 1:], self.event(words))
            elif i > 0 and words[i - 1] == "-n" and verb == "lvcreate":
                out[i] = self.name(w, "create")
        if verb == "lvrename":   # lvrename VG OLD NEW
            out[-2] = self.name(words[-2], "exists")
            out[-1] = self.name(words[-1], "create")
        for lv, twin in self.map.items():   # a read-only activation's --config
            out = [x.replace('"%s/%s"' % (vg, lv), '"%s/%s"' % (vg, twin)) for x in out]
        return out

    @staticmethod
    def event(words):
        if words[0] == "lvchange":
            return "off" if "-an" in words else "on"
        if words[0] == "lvresize" and int(words[words.index("-L") + 1].rstrip("b")) <= 8 * MIB:
            return "deflate"
        return "exists"

    def setup(self):
        """The twins the lines expect to exist, by one lvm shell: bigger
        when the lines deflate them, and active when the first activation
        change the lines make to them is a deactivation (the call found
        them active: a resize before it is an active LV's)."""
        script = []
        for lv, ev in self.events.items():
            if ev[0] == "create":
                continue
            size = "68m" if "deflate" in ev else "4m"
            script.append("lvcreate -an -Zn -Wn -n %s -L %s %s" % (self.map[lv], size, self.vg))
            if [e for e in ev if e in ("on", "off")][:1] == ["off"]:
                script.append("lvchange -aey %s/%s" % (self.vg, self.map[lv]))
        if script:
            subprocess.run(["lvm"], input="\n".join(script) + "\n", text=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cleanup(self):
        """Every twin removed (-f: active or not), by one lvm process."""
        lvm("lvremove", "-f", *["%s/%s" % (self.vg, t) for t in self.map.values()],
            check=False)


def main():
    layer, vg, cmds = sys.argv[1:4]
    twins = Twins(vg)
    lines = [twins.rewrite(shlex.split(l)) for l in open(cmds) if l.strip()]
    if not lines:
        print("0 0 0")
        return
    replay = cmds + ".replay"
    with open(replay, "w") as f:
        for w in lines:
            f.write(" ".join("'%s'" % x if " " in x else x for x in w) + "\n")
    twins.setup()
    out = subprocess.run([layer, "-r", replay], check=True, capture_output=True,
                         text=True).stdout
    with open(cmds + ".times", "w") as f:   # each command's ms, for the growth
        f.write(out)
    out = out.split("\n")
    total = [l.split() for l in out if l.startswith("total ")][0]
    twins.cleanup()
    twins.setup()
    binary = 0.0
    for w in lines:
        t = time.monotonic()
        subprocess.run(["lvm", *w], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        binary += time.monotonic() - t
    twins.cleanup()
    if total[5] != "0":
        print("lvm-replay: %s command(s) of %s failed in process" % (total[5], cmds), file=sys.stderr)
    print("%s %s %.1f" % (total[1], total[3], binary * 1e3))


main()
