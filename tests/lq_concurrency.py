# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_concurrency: concurrent clients on one fileqcow SR.

    lq_concurrency.py PLUGIN SR
        8 client threads make 200 calls in total through the mock
        (Volume.create, set, set_name, destroy, and Volume.set on one
        shared volume); then SR.ls must list exactly the volumes that
        should exist, with their names and keys (a lost update would
        drop one), and the SR must hold one image per volume.  Exits 1
        with the differences.
"""
import os
import random
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock"))
import xss  # noqa: E402

CLIENTS, OPS = 8, 200


class Run:
    def __init__(self, plugin, sr):
        self.plugin, self.sr = plugin, sr
        self.expected = {}          # key -> [name, keys] of the volumes that must exist
        self.lock = threading.Lock()
        self.errors = []
        self.shared = self.c("Volume.create", name="shared", description="", size=1 << 20,
                             sharable=True)["key"]

    def c(self, method, **p):
        p["dbg"] = "conc"
        p["sr"] = self.sr
        return xss.call(self.plugin, method, p)

    def one_op(self, rnd, n, i, mine):
        op = rnd.choice(["create", "create", "set", "set_name", "destroy", "shared"]) if mine else "create"
        if op == "create":
            v = self.c("Volume.create", name="c%d-%d" % (n, i), description="",
                       size=rnd.randrange(0, 1 << 30), sharable=False)
            mine[v["key"]] = ["c%d-%d" % (n, i), {}]
        elif op == "set":
            k = rnd.choice(sorted(mine))
            self.c("Volume.set", key=k, k="op%d" % i, v="client %d" % n)
            mine[k][1]["op%d" % i] = "client %d" % n
        elif op == "set_name":
            k = rnd.choice(sorted(mine))
            self.c("Volume.set_name", key=k, new_name="renamed %d-%d" % (n, i))
            mine[k][0] = "renamed %d-%d" % (n, i)
        elif op == "destroy":
            k = rnd.choice(sorted(mine))
            self.c("Volume.destroy", key=k)
            del mine[k]
        else:
            self.c("Volume.set", key=self.shared, k="client%d-%d" % (n, i), v=str(i))
            with self.lock:
                self.expected.setdefault(self.shared, ["shared", {}])[1]["client%d-%d" % (n, i)] = str(i)

    def client(self, n):
        rnd = random.Random(n)
        mine = {}
        try:
            for i in range(OPS // CLIENTS):
                self.one_op(rnd, n, i, mine)
        except Exception as e:
            self.errors.append("client %d: %r" % (n, e))
        with self.lock:
            self.expected.update(mine)

    def verify(self):
        expected, shared = self.expected, self.shared
        expected.setdefault(shared, ["shared", {}])
        fails = list(self.errors)
        got = {v["key"]: [v["name"], v["keys"]] for v in self.c("SR.ls")}
        if got != expected:
            fails.append("SR.ls differs: missing %s, extra %s, wrong %s" % (
                sorted(set(expected) - set(got)), sorted(set(got) - set(expected)),
                [k for k in got if k in expected and got[k] != expected[k]]))
        images = os.listdir(os.path.join(self.sr, "images"))
        if len(images) != len(expected):
            fails.append("%d images for %d volumes" % (len(images), len(expected)))
        print("%d volumes, %d shared keys, %d failures"
              % (len(got), len(got.get(shared, ["", {}])[1]), len(fails)))
        for f in fails:
            print("FAIL", f)
        return not fails


def main(plugin, sr):
    r = Run(plugin, sr)
    threads = [threading.Thread(target=r.client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.exit(0 if r.verify() else 1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
