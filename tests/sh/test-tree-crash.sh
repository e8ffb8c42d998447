#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault injection: snapshot, clone, resize and the collector (in both
# copy directions) killed at every fault point each reaches; after
# recovery every volume reads as before or as after, images are clean,
# and no node is left that nothing uses.
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_tree_crash.py" sr
