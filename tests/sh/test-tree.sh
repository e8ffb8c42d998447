#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Snapshots, clones and resize (Volume.snapshot, Volume.clone,
# Volume.resize) and the garbage collector bringing a chain back to one
# node in both copy directions, with the guest data checked by qemu-img.
source "$LQ_TOP/tests/lib.sh"

note "snapshot, clone, resize, the depth cap"
python3 "$LQ_TESTS/lq_tree.py" calls sr1
note "destroy and coalesce: up, down, cheaper; the detached collector"
python3 "$LQ_TESTS/lq_tree.py" gc sr2
