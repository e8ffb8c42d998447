# SPDX-License-Identifier: LGPL-2.1-or-later
"""nbd_integrity: the deterministic workload of test-nbd-integrity.sh.

    nbd_integrity.py write SOCKET EXPORT SEED MIB
        writes MIB MiB of pseudo-random data in extents of 4 KiB..2 MiB at
        scattered, unaligned offsets (one extent per 2 MiB slot, never
        overlapping), 16 requests in flight, then FLUSH.
    nbd_integrity.py churn SOCKET EXPORT SEED MIB READY
        keeps writing into slots the write phase did not use, never
        flushing, until the server goes away; creates the file READY once
        writes are flowing.
    nbd_integrity.py verify SOCKET EXPORT SEED MIB
        reads every extent of the write phase back and compares, and
        checks that slots no phase touched read as zeros.
    nbd_integrity.py verify-piped SOCKET EXPORT SEED MIB
        reads the extents back with 64 requests in flight, on a simple
        and a structured connection, pausing before it reads any reply
        so that replies pile up behind the server's sender, and matches
        each reply to its request by cookie.
Everything derives from SEED, so verify needs no saved state."""
import random
import sys
import time

import nbd_raw as n

SLOT = 2 << 20
VSIZE = 4 << 30
SLOTS = VSIZE // SLOT


def plan(seed, mib):
    """[(offset, length, data seed)] of the write phase, and its slot set."""
    rng = random.Random(seed)
    slots = list(range(SLOTS))
    rng.shuffle(slots)
    extents, total, used = [], 0, set()
    for slot in slots:
        if total >= mib << 20:
            break
        length = rng.randint(4096, SLOT - 4096)
        off = slot * SLOT + rng.randrange(0, SLOT - length)
        extents.append((off, length, rng.getrandbits(64)))
        used.add(slot)
        total += length
    return extents, used


def data_of(dseed, length):
    return random.Random(dseed).randbytes(length)


def pipelined_writes(c, extents, depth=16):
    pending = 0
    for off, length, dseed in extents:
        data = data_of(dseed, length)
        for part in range(0, length, 1 << 20):
            chunk = data[part:part + (1 << 20)]
            c.send_request(n.CMD_WRITE, off + part, len(chunk), 0, chunk)
            pending += 1
            if pending >= depth:
                _, err, _ = c.read_reply()
                assert err == 0, "write failed: %d" % err
                pending -= 1
    for _ in range(pending):
        _, err, _ = c.read_reply()
        assert err == 0, "write failed: %d" % err


def write(sock, export, seed, mib):
    extents, _ = plan(seed, mib)
    c = n.Client(sock, export)
    assert c.size == VSIZE, "export size %d" % c.size
    pipelined_writes(c, extents)
    c.flush()
    c.close()
    print("wrote and flushed %d extents, %d bytes" % (len(extents), sum(e[1] for e in extents)))


def churn_slots(seed, mib):
    _, used = plan(seed, mib)
    return [s for s in range(SLOTS) if s not in used][:SLOTS // 8]


def churn(sock, export, seed, mib, ready):
    free = churn_slots(seed, mib)
    rng = random.Random(seed + 1)
    c = n.Client(sock, export)
    try:
        for i in range(1 << 62):
            if i == 64:
                open(ready, "w").close()
            slot = rng.choice(free)
            c.send_request(n.CMD_WRITE, slot * SLOT + rng.randrange(0, SLOT // 2), 65536, 0,
                           rng.randbytes(65536))
    except (OSError, EOFError):
        pass


def verify(sock, export, seed, mib):
    extents, used = plan(seed, mib)
    c = n.Client(sock, export, structured=True)
    bad = 0
    for off, length, dseed in extents:
        want = data_of(dseed, length)
        for part in range(0, length, 1 << 20):
            got = c.pread(off + part, min(1 << 20, length - part))
            if got != want[part:part + len(got)]:
                print("MISMATCH at %d+%d" % (off + part, len(got)))
                bad += 1
    churned = set(churn_slots(seed, mib))
    untouched = [s for s in range(SLOTS) if s not in used and s not in churned]
    for slot in random.Random(seed + 2).sample(untouched, min(64, len(untouched))):
        if c.pread(slot * SLOT, SLOT) != bytes(SLOT):
            print("slot %d should read as zeros" % slot)
            bad += 1
    c.close()
    if bad:
        sys.exit("%d mismatches" % bad)
    print("verified %d extents and 64 untouched slots" % len(extents))


def piped_pass(c, extents, depth=64):
    """Every extent's 1 MiB parts, depth reads in flight; mismatches."""
    parts = [(off + p, min(1 << 20, length - p), dseed, p)
             for off, length, dseed in extents for p in range(0, length, 1 << 20)]
    want, bad, i = {}, 0, 0
    while i < len(parts) or want:
        while i < len(parts) and len(want) < depth:
            off, length, dseed, p = parts[i]
            want[c.send_read(off, length)] = (off, data_of(dseed, p + length)[p:])
            i += 1
        if i == depth:
            time.sleep(0.5)             # the server's socket fills; replies queue
        cookie, err, got = c.read_reply()
        off, data = want.pop(cookie)
        if err or got != data:
            print("MISMATCH at %d+%d (error %d)" % (off, len(data), err))
            bad += 1
    return bad


def verify_piped(sock, export, seed, mib):
    extents, _ = plan(seed, mib)
    bad = 0
    for structured in (False, True):
        c = n.Client(sock, export, structured=structured)
        bad += piped_pass(c, extents)
        c.close()
    if bad:
        sys.exit("%d mismatches" % bad)
    print("verified %d extents twice, 64 reads in flight" % len(extents))


if __name__ == "__main__":
    cmd, sock, export, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if cmd == "write":
        write(sock, export, seed, int(sys.argv[5]))
    elif cmd == "churn":
        churn(sock, export, seed, int(sys.argv[5]), sys.argv[6])
    elif cmd == "verify-piped":
        verify_piped(sock, export, seed, int(sys.argv[5]))
    else:
        verify(sock, export, seed, int(sys.argv[5]))
