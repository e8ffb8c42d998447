#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""meta.py: the per-call cost of the fileqcow SR metadata against the
number of volumes (driven by bench/meta.sh; results in docs/bench-meta.md).

    meta.py PLUGIN_DIR SCRATCH SIZES...

PLUGIN_DIR is the installed volume plugin directory.  Every call runs as
xapi-storage-script runs it: one process per call, argv [script, "--json"],
the parameters as one JSON line on stdin.  An SR is created in SCRATCH/sr,
then grown to each size in turn (untimed, JOBS parallel callers), and at
each size every call is timed ROUNDS times.  The calls are interleaved
round by round, so a burst of load on the machine hits every call alike.

Per call: wall time from spawn to reap (time.perf_counter) and the child's
CPU time (user + system, from wait4).  Reported: median and p90 of the wall
time, median CPU time, and the ratios to the smallest size.

Environment: LQ_BENCH_ROUNDS (15), LQ_BENCH_JOBS (2), LQ_BENCH_VSIZE
(virtual size of each volume, 10 GiB).
"""
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

ROUNDS = int(os.environ.get("LQ_BENCH_ROUNDS", "15"))
JOBS = int(os.environ.get("LQ_BENCH_JOBS", "2"))
VSIZE = int(os.environ.get("LQ_BENCH_VSIZE", str(10 << 30)))

# (call, goal): goal is the largest allowed ratio between the median at
# 2000 volumes and at 20; None for the baseline.
CALLS = [
    ("Plugin.query", None),
    ("SR.stat", 1.5),
    ("SR.ls", 10.0),
    ("Volume.stat", 1.5),
    ("Volume.set", 1.5),
    ("Volume.unset", 1.5),
    ("Volume.set_name", 1.5),
    ("Volume.set_description", 1.5),
    ("Volume.create", 1.5),
    ("Volume.destroy", 1.5),
]


class CallFailed(Exception):
    pass


class Plugin:
    """The installed call executables of one plugin directory."""

    def __init__(self, directory, log_path):
        self.dir = directory
        self.log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def run(self, method, **params):
        """One call; returns (result, wall seconds, cpu seconds)."""
        params.setdefault("dbg", "bench-meta")
        line = json.dumps(params, separators=(",", ":")).encode() + b"\n"
        script = os.path.join(self.dir, method)
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        start = time.perf_counter()
        pid = os.posix_spawn(script, [script, "--json"], os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, r_in, 0), (os.POSIX_SPAWN_DUP2, w_out, 1),
            (os.POSIX_SPAWN_DUP2, self.log, 2)])
        os.close(r_in)
        os.close(w_out)
        out = self.exchange(w_in, r_out, line)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        return self.result(method, status, out), wall, usage.ru_utime + usage.ru_stime

    @staticmethod
    def exchange(w_in, r_out, line):
        # The request is far below the pipe's capacity: write it all, then read.
        try:
            os.write(w_in, line)
        finally:
            os.close(w_in)
        chunks = []
        while True:
            b = os.read(r_out, 1 << 20)
            if not b:
                break
            chunks.append(b)
        os.close(r_out)
        return b"".join(chunks)

    @staticmethod
    def result(method, status, out):
        if os.waitstatus_to_exitcode(status) != 0:
            raise CallFailed("%s: exit %d: %s" % (method, os.waitstatus_to_exitcode(status),
                                                  out[:500].decode("utf-8", "replace")))
        return json.loads(out)


class Bench:
    def __init__(self, plugin, scratch):
        self.p = plugin
        self.path = os.path.join(scratch, "sr")
        self.keys = []          # the population: volumes every call may pick
        self.serial = 0
        self.rng = random.Random(7)

    def create_sr(self):
        os.mkdir(self.path)
        self.p.run("SR.create", uuid=str(uuid.uuid4()), configuration={"path": self.path},
                   name="bench-meta", description="per-call cost against the SR size")
        self.sr = self.p.run("SR.attach", configuration={"path": self.path})[0]

    def create_volume(self):
        self.serial += 1
        vol, wall, cpu = self.p.run("Volume.create", sr=self.sr, name="bench volume %06d" % self.serial,
                                    description="created by bench/meta.py to fill the SR",
                                    size=VSIZE, sharable=False)
        return vol["key"], wall, cpu

    def populate(self, n):
        """Grow the population to n volumes (untimed, JOBS callers)."""
        missing = n - len(self.keys)
        if missing <= 0:
            return
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=JOBS) as pool:
            for key, _, _ in pool.map(lambda _: self.create_volume(), range(missing)):
                self.keys.append(key)
        note("populated %d volumes in %.0f s" % (n, time.perf_counter() - start))

    def pick(self):
        return self.rng.choice(self.keys)

    def round(self, samples, victim):
        """One timed call of each kind; returns the next destroy victim.

        Volume.destroy removes the volume the previous round's
        Volume.create made (or the first victim), so the SR holds n or
        n + 1 volumes throughout."""
        sr = self.sr
        one = {
            "Plugin.query": lambda: self.p.run("Plugin.query"),
            "SR.stat": lambda: self.p.run("SR.stat", sr=sr),
            "SR.ls": lambda: self.p.run("SR.ls", sr=sr),
        }
        for name, thunk in one.items():
            samples[name].append(thunk()[1:])
        key = self.pick()
        samples["Volume.stat"].append(self.p.run("Volume.stat", sr=sr, key=key)[1:])
        key = self.pick()
        samples["Volume.set"].append(self.p.run("Volume.set", sr=sr, key=key, k="bench-key",
                                                v="bench-value")[1:])
        samples["Volume.unset"].append(self.p.run("Volume.unset", sr=sr, key=key, k="bench-key")[1:])
        samples["Volume.set_name"].append(self.p.run("Volume.set_name", sr=sr, key=self.pick(),
                                                     new_name="renamed by bench")[1:])
        samples["Volume.set_description"].append(self.p.run(
            "Volume.set_description", sr=sr, key=self.pick(), new_description="described by bench")[1:])
        samples["Volume.destroy"].append(self.p.run("Volume.destroy", sr=sr, key=victim)[1:])
        key, wall, cpu = self.create_volume()
        samples["Volume.create"].append((wall, cpu))
        return key

    def measure(self, n):
        """ROUNDS samples of every call with n volumes in the SR."""
        self.populate(n)
        samples = {name: [] for name, _ in CALLS}
        victim = self.create_volume()[0]
        for _ in range(ROUNDS):
            victim = self.round(samples, victim)
        self.p.run("Volume.destroy", sr=self.sr, key=victim)
        listed = len(self.p.run("SR.ls", sr=self.sr)[0])
        if listed != n:
            raise CallFailed("SR.ls lists %d volumes, expected %d" % (listed, n))
        return {name: summary(s) for name, s in samples.items()}


def summary(samples):
    walls = sorted(w for w, _ in samples)
    p90 = walls[max(0, math.ceil(0.9 * len(walls)) - 1)]       # nearest rank
    return {"median": statistics.median(walls), "p90": p90,
            "cpu": statistics.median(c for _, c in samples)}


def note(msg):
    print("# %s" % msg, file=sys.stderr, flush=True)


def ms(s):
    return "%.1f" % (s * 1000)


def ratio(results, sizes, name, n, field="median"):
    if sizes[0] not in results or n not in results:
        return None
    return results[n][name][field] / results[sizes[0]][name][field]


def verdict(goal, r):
    if goal is None:
        return "baseline"
    if r is None:
        return "n/a"
    return "PASS" if r <= goal else "FAIL"


def table(results, sizes, field, title):
    cols = [n for n in (2000, 10000) if n in sizes and n != sizes[0]]
    print("\n%s\n" % title)
    head = ["call"] + ["%d vols" % n for n in sizes] + ["%d/%d" % (n, sizes[0]) for n in cols]
    if field == "median":
        head += ["goal at 2000", "verdict", "2000/20 / base", "verdict / base"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, goal in CALLS:
        row = [name]
        for n in sizes:
            r = results[n][name]
            row.append("%s / %s" % (ms(r["median"]), ms(r["p90"])) if field == "median" else ms(r["cpu"]))
        row += ["%.2fx" % ratio(results, sizes, name, n, field) for n in cols]
        if field == "median":
            r2000 = ratio(results, sizes, name, 2000) if 2000 in sizes else None
            base = ratio(results, sizes, "Plugin.query", 2000) if 2000 in sizes else None
            rel = r2000 / base if r2000 is not None else None
            row += ["-" if goal is None else "<= %gx" % goal, verdict(goal, r2000),
                    "-" if rel is None else "%.2fx" % rel, verdict(goal, rel)]
        print("| " + " | ".join(row) + " |")


def main(argv):
    plugin_dir, scratch = argv[1], argv[2]
    sizes = sorted(int(x) for x in argv[3:])
    bench = Bench(Plugin(plugin_dir, os.path.join(scratch, "calls.log")), scratch)
    bench.create_sr()
    results = {}
    for n in sizes:
        start = time.perf_counter()
        results[n] = bench.measure(n)
        note("measured %d volumes in %.0f s" % (n, time.perf_counter() - start))
    table(results, sizes, "median", "Wall time per call, ms: median / p90 of %d calls" % ROUNDS)
    table(results, sizes, "cpu", "CPU time (user + system) per call, ms: median of %d calls" % ROUNDS)
    print("\nGoal: single-volume calls and SR.stat at 2000 volumes within 1.5x of 20; SR.ls within 10x."
          "\nPlugin.query (no SR access) is the cost of starting a call process; the sizes are"
          "\nmeasured minutes apart, so '/ base' divides each ratio by the baseline's own ratio"
          "\n(the machine's drift between the two sizes).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
