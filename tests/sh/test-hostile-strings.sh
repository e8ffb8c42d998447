#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Names, descriptions, keys and values round-trip byte for byte through
# the plugin and the SR document: unicode, quotes, XML specials, newlines,
# control characters XML 1.0 cannot carry, shell metacharacters and
# strings of the maximum size (8 KiB); one byte more is refused and the SR
# is left unchanged.  Nothing reaches a shell: a "$(touch ...)" value stays a value.
source "$LQ_TOP/tests/lib.sh"

SRU=$(new_sr sr)
sr=$(realpath sr)

python3 - "$LQ_FILEQCOW" "$sr" "$PWD" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["LQ_TOP"], "tests", "mock"))
import xss

plugin, sr, cwd = sys.argv[1:]
strings = [
    "", " ", "  padded  ", "quotes \" ' `", "<b>&amp;</b> ]]> <!-- x --> <?xml?>",
    "line1\nline2\r\nline3\rend", "\t\ttabs", "".join(chr(c) for c in range(1, 32)) + "\x7f",
    "caf\u00e9 \u20ac \U0001F600 \u4e2d\u6587 \u0645\u0631\u062d\u0628\u0627", "\ufffd\ufeff\u200b",
    "$(touch %s/pwned) `touch %s/pwned2`; | & > /dev/null" % (cwd, cwd), "%s%n%x%p",
    "\\ \\\\ \\n", "--json", "-", "../../../etc/passwd", "\ud7ff\ue000\uffff",
    "".join(chr(1 + i % 0x7e) for i in range(8192)),
]

def c(method, **p):
    p["dbg"] = "t"
    return xss.call(plugin, method, p)

fails_sr = []
for s in strings[:4] + strings[5:9] + strings[-1:] + ["x" * 8192]:
    c("SR.set_name", sr=sr, new_name=s)
    c("SR.set_description", sr=sr, new_description=s[::-1])
    st = c("SR.stat", sr=sr)
    if st["name"] != s or st["description"] != s[::-1]:
        fails_sr.append(s)
        print("FAIL SR name %r" % s[:40])
# One volume per string, so a single SR.ls checks them all at the end.
keys = []
for i, s in enumerate(strings):
    v = c("Volume.create", sr=sr, name=s, description=s[::-1], size=0, sharable=False)
    c("Volume.set", sr=sr, key=v["key"], k="k", v=s)
    c("Volume.set", sr=sr, key=v["key"], k=s, v=str(i))
    keys.append(v["key"])
c("Volume.set_name", sr=sr, key=keys[0], new_name=strings[7])
c("Volume.unset", sr=sr, key=keys[1], k=strings[1])
fails = len(fails_sr)
def verify(vols):
    global fails
    by_key = {v["key"]: v for v in vols}
    for i, s in enumerate(strings):
        v = by_key[keys[i]]
        want_keys = {"k": s, s: str(i)} if i != 1 else {"k": s}
        checks = [v["name"] == (s if i else strings[7]), v["description"] == s[::-1],
                  v["keys"] == want_keys]
        if not all(checks):
            fails += 1
            print("FAIL string %d (%r...): %r" % (i, s[:40], checks))
verify(c("SR.ls", sr=sr))
if os.path.exists(cwd + "/pwned") or os.path.exists(cwd + "/pwned2"):
    fails += 1
    print("FAIL: a value reached a shell")
# The document must still load after a fresh attach (a new process).
c("SR.detach", sr=sr)
c("SR.attach", configuration={"path": sr})
verify(c("SR.ls", sr=sr))
import hashlib
def area_md5():
    with open(sr + "/lvqcow-sr.meta", "rb") as f:
        return hashlib.md5(f.read()).hexdigest()
before = area_md5()
big = "x" * 8193
for m, p in [("Volume.set", dict(sr=sr, key=keys[2], k="k", v=big)),
             ("Volume.set", dict(sr=sr, key=keys[2], k=big, v="v")),
             ("Volume.set_name", dict(sr=sr, key=keys[2], new_name=big)),
             ("Volume.set_description", dict(sr=sr, key=keys[2], new_description=big)),
             ("SR.set_name", dict(sr=sr, new_name=big)),
             ("Volume.create", dict(sr=sr, name=big, description="", size=0, sharable=False))]:
    try:
        c(m, **p)
        fails += 1
        print("FAIL: %s accepted 8193 bytes" % m)
    except xss.XapiError as e:
        pass
if area_md5() != before:
    fails += 1
    print("FAIL: a refused call changed the SR")
verify(c("SR.ls", sr=sr))
print("%d strings, %d failures" % (len(strings), fails))
sys.exit(1 if fails else 0)
PY
echo OK
