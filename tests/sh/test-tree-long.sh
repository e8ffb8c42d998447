#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Random snapshot-tree operations against a model (LQ_TREE_LONG_OPS, 150
# here; `make check-long` runs 1000): every volume matches its model and
# the collector brings the last volume back to one node.
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_tree_long.py" sr "${LQ_TREE_LONG_OPS:-150}" "${LQ_TREE_LONG_SEED:-1}"
