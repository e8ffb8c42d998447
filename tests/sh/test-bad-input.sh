#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bad-input matrix: malformed JSON, empty stdin, missing and
# wrong-typed fields, unknown SRs and keys, hostile paths and sizes.
# Every case must exit non-zero with a well-formed error JSON (never a
# signal, never bad output) and leave the SR byte-for-byte unchanged.
source "$LQ_TOP/tests/lib.sh"

SRU=$(new_sr sr)
sr=$(realpath sr)
xe vdi-create sr-uuid="$SRU" name-label=keep virtual-size=1048576 >/dev/null
key=$(json_get "$(fcall SR.ls "{\"dbg\":\"t\",\"sr\":\"$sr\"}")" 'j[0]["key"]')
touch afile

python3 - "$LQ_FILEQCOW" "$sr" "$key" "$PWD" <<'PY'
import hashlib, itertools, json, os, sys, uuid
sys.path.insert(0, os.path.join(os.environ["LQ_TOP"], "tests", "mock"))
import xss
from lqtest import sr_dump

plugin, sr, key, cwd = sys.argv[1:]

def dump():
    return sr_dump(sr)

good = {
    "Plugin.query": {"dbg": "t"},
    "Plugin.diagnostics": {"dbg": "t"},
    "Plugin.ls": {"dbg": "t"},
    "SR.probe": {"dbg": "t", "configuration": {"path": sr}},
    "SR.attach": {"dbg": "t", "configuration": {"path": sr}},
    "SR.create": {"dbg": "t", "uuid": str(uuid.uuid4()), "configuration": {"path": sr},
                  "name": "n", "description": "d"},
    "SR.detach": {"dbg": "t", "sr": sr},
    "SR.destroy": {"dbg": "t", "sr": sr},
    "SR.stat": {"dbg": "t", "sr": sr},
    "SR.ls": {"dbg": "t", "sr": sr},
    "SR.set_name": {"dbg": "t", "sr": sr, "new_name": "x"},
    "SR.set_description": {"dbg": "t", "sr": sr, "new_description": "x"},
    "Volume.create": {"dbg": "t", "sr": sr, "name": "n", "description": "d", "size": 1, "sharable": False},
    "Volume.destroy": {"dbg": "t", "sr": sr, "key": key},
    "Volume.stat": {"dbg": "t", "sr": sr, "key": key},
    "Volume.set": {"dbg": "t", "sr": sr, "key": key, "k": "a", "v": "b"},
    "Volume.unset": {"dbg": "t", "sr": sr, "key": key, "k": "a"},
    "Volume.set_name": {"dbg": "t", "sr": sr, "key": key, "new_name": "x"},
    "Volume.set_description": {"dbg": "t", "sr": sr, "key": key, "new_description": "x"},
}
cases = []  # (method, stdin bytes, expected params[0] or code, label)
malformed = [b"", b"\n", b"{", b"}", b"null", b"[]", b"\"x\"", b"42", b"{\"dbg\":\"t\"} {}",
             b"{\"dbg\":\"t\",}", b"{\"dbg\" \"t\"}", b"\xff\xfe\x00", b"{" * 5000, b"[" * 100000,
             b"{\"dbg\":\"t\"", b"x" * 1000000]
# The stdin path is shared by every call: the full list on two calls, a
# sample on the others (each case is a process; keep the test short).
for m in good:
    for bad in (malformed if m in ("SR.stat", "Volume.create") else malformed[:3] + malformed[9:11]):
        cases.append((m, bad, "UnmarshalException", "malformed %r" % bad[:20]))
wrong = [1, 1.5, True, None, [], {}, "s", {"a": 1}]
rotate = itertools.count()
for m, params in good.items():
    for field, val in params.items():
        missing = {k: v for k, v in params.items() if k != field}
        cases.append((m, json.dumps(missing).encode(), "UnmarshalException", "missing " + field))
        for w in wrong:
            if type(w) is type(val) and (not isinstance(w, dict) or w == {}):
                continue
            if isinstance(val, dict) and w == {}:
                continue
            if w is not None and next(rotate) % 3:  # null always, others in turn
                continue
            p = dict(params)
            p[field] = w
            cases.append((m, json.dumps(p).encode(), "TypeError", "%s=%r" % (field, w)))
        if isinstance(val, str):
            p = dict(params)
            p[field] = "a\u0000b"
            cases.append((m, json.dumps(p).encode(), "TypeError", field + " with NUL"))
# unknown SRs: every call taking an sr
bad_srs = ["", "relative", "/", "/nonexistent/sr", cwd, cwd + "/afile", sr + "/", sr + "/images",
           sr + "/../sr", "/" + "a" * 5000, "/etc", "\n", sr + "\u0001"]
for m, params in good.items():
    if "sr" not in params:
        continue
    for s in (bad_srs if m in ("SR.stat", "Volume.set") else bad_srs[::4]):
        p = dict(params)
        p["sr"] = s
        cases.append((m, json.dumps(p).encode(), "Sr_not_attached", "sr=%r" % s[:30]))
# unknown keys
bad_keys = ["", str(uuid.uuid4()), key.upper(), key + " ", "../../etc/passwd", "a" * 100000,
            key[:-1], "*", "\u00e9"]
for m, params in good.items():
    if "key" not in params:
        continue
    for k in (bad_keys if m == "Volume.stat" else bad_keys[::3]):
        p = dict(params)
        p["key"] = k
        cases.append((m, json.dumps(p).encode(), "Volume_does_not_exist", "key=%r" % k[:30]))
# sizes
for size in [-1, -512, -2**63, 2**63 - 1, 16 * 2**40 + 1, 2**64, 10**30, -10**30]:
    p = dict(good["Volume.create"])
    p["size"] = size
    cases.append(("Volume.create", json.dumps(p).encode(), "SR_BACKEND_FAILURE_79", "size=%d" % size))
for size in ["1", 1.0, 1e3, None, True]:
    p = dict(good["Volume.create"])
    p["size"] = size
    cases.append(("Volume.create", json.dumps(p).encode(), "TypeError", "size=%r" % size))
# device-config paths
for cfg in [{}, {"path": ""}, {"path": "relative"}, {"path": cwd + "/nonexistent"},
            {"path": cwd + "/afile"}, {"path": "/" + "a" * 5000}, {"PATH": sr}]:
    for m in ("SR.probe", "SR.attach", "SR.create"):
        p = dict(good[m])
        p["configuration"] = cfg
        cases.append((m, json.dumps(p).encode(), "Invalid_argument", "config=%r" % str(cfg)[:30]))
for m in ("SR.create",):
    for u in ["", "not-a-uuid", str(uuid.uuid4()) + "x", "../x"]:
        p = dict(good[m])
        p["uuid"] = u
        p["configuration"] = {"path": cwd}
        cases.append((m, json.dumps(p).encode(), "Invalid_argument", "uuid=%r" % u))
cases.append(("SR.create", json.dumps(good["SR.create"]).encode(), "Invalid_argument", "existing SR"))
cases.append(("SR.attach", json.dumps({"dbg": "t", "configuration": {"path": sr, "sr_uuid": str(uuid.uuid4())}}).encode(),
              "SR_does_not_exist", "wrong sr_uuid"))
cases.append(("SR.destroy", json.dumps(good["SR.destroy"]).encode(), "SR_NOT_EMPTY", "not empty"))

before = dump()
failures = 0
for m, data, want, label in cases:
    try:
        r = xss.run_raw(plugin, m, data)
        failures += 1
        print("FAIL %s %s: succeeded with %r" % (m, label, str(r)[:200]))
        continue
    except xss.XapiError as e:
        got = e.params[0] if e.code == "SR_BACKEND_FAILURE" and e.params else e.code
        if e.exit_code != 1 or got != want:
            failures += 1
            print("FAIL %s %s: %s %r (exit kind %d), want %s" % (m, label, e.code, e.params[:2], e.exit_code, want))
    now = dump()
    if now != before:
        failures += 1
        print("FAIL %s %s: the SR changed" % (m, label))
        before = now
print("%d cases, %d failures" % (len(cases), failures))
sys.exit(1 if failures else 0)
PY
echo OK
