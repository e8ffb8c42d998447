#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 8 clients snapshot, clone, set keys, write through the datapath and
# destroy across one tree while collectors run; every volume then reads
# as its model says and no node is left that nothing uses.
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_tree_conc.py" sr "${LQ_TREE_OPS:-20}"
