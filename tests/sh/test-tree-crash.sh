#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault injection: snapshot, clone, resize and the collector (in both
# copy directions) killed at every fault point each reaches; after
# recovery every volume reads as before or as after, images are clean,
# and no node is left that nothing uses.
# LQ_TREE_CRASH_OPS picks the operations (lq_tree_crash.py's names).  On
# lvqcow, which runs in the VM bed under TCG where the whole set takes
# about 35 minutes, the default is snapshot and gc-up: the LVM-specific
# steps (a new LV and its room, inflate and deflate, the collector's
# target grown under the lock, an orphan LV swept on attach).
source "$LQ_TOP/tests/lib.sh"
ops=${LQ_TREE_CRASH_OPS-}
[ -n "$ops" ] || [ "$(lq_sr_type)" != lvqcow ] || ops="snapshot gc-up"
# shellcheck disable=SC2086
python3 "$LQ_TESTS/lq_tree_crash.py" sr $ops
