#!/bin/bash
# 8 concurrent clients, 200 operations in total (Volume.create, set,
# set_name, destroy), some of them all on one shared volume: afterwards
# the SR lists exactly the volumes that should exist, with the right
# names and keys (a lost update would drop one), and one image each.
source "$LQ_TOP/tests/lib.sh"

SRU=$(new_sr sr)
sr=$(realpath sr)

python3 - "$LQ_FILEQCOW" "$sr" <<'PY'
import os, random, sys, threading
sys.path.insert(0, os.path.join(os.environ["LQ_TOP"], "tests", "mock"))
import xss

plugin, sr = sys.argv[1:]
CLIENTS, OPS = 8, 200

def c(method, **p):
    p["dbg"] = "conc"
    return xss.call(plugin, method, p)

shared = c("Volume.create", sr=sr, name="shared", description="", size=1 << 20, sharable=True)["key"]
expected = {}          # key -> (name, keys) of the volumes that must exist
lock = threading.Lock()
errors = []

def client(n):
    rnd = random.Random(n)
    mine = {}
    try:
        for i in range(OPS // CLIENTS):
            op = rnd.choice(["create", "create", "set", "set_name", "destroy", "shared"]) if mine else "create"
            if op == "create":
                v = c("Volume.create", sr=sr, name="c%d-%d" % (n, i), description="", size=rnd.randrange(0, 1 << 30), sharable=False)
                mine[v["key"]] = ["c%d-%d" % (n, i), {}]
            elif op == "set":
                k = rnd.choice(sorted(mine))
                c("Volume.set", sr=sr, key=k, k="op%d" % i, v="client %d" % n)
                mine[k][1]["op%d" % i] = "client %d" % n
            elif op == "set_name":
                k = rnd.choice(sorted(mine))
                c("Volume.set_name", sr=sr, key=k, new_name="renamed %d-%d" % (n, i))
                mine[k][0] = "renamed %d-%d" % (n, i)
            elif op == "destroy":
                k = rnd.choice(sorted(mine))
                c("Volume.destroy", sr=sr, key=k)
                del mine[k]
            else:
                c("Volume.set", sr=sr, key=shared, k="client%d-%d" % (n, i), v=str(i))
                with lock:
                    expected.setdefault(shared, ["shared", {}])[1]["client%d-%d" % (n, i)] = str(i)
    except Exception as e:
        errors.append("client %d: %r" % (n, e))
    with lock:
        expected.update(mine)

threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
expected.setdefault(shared, ["shared", {}])
fails = list(errors)
got = {v["key"]: [v["name"], v["keys"]] for v in c("SR.ls", sr=sr)}
if got != expected:
    fails.append("SR.ls differs: missing %s, extra %s, wrong %s" % (
        sorted(set(expected) - set(got)), sorted(set(got) - set(expected)),
        [k for k in got if k in expected and got[k] != expected[k]]))
images = os.listdir(os.path.join(sr, "images"))
if len(images) != len(expected):
    fails.append("%d images for %d volumes" % (len(images), len(expected)))
print("%d volumes, %d shared keys, %d failures" % (len(got), len(got.get(shared, ["", {}])[1]), len(fails)))
for f in fails:
    print("FAIL", f)
sys.exit(1 if fails else 0)
PY
for img in $(ls sr/images/* | head -n 5); do qcheck "$img"; done
echo OK
