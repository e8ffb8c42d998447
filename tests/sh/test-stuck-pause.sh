#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A call killed while it holds a volume's server paused (snapshot after
# its commit, inside its commit, resize with the image grown): the server
# runs "lvqcow resume" once the pause is overdue, so a guest's write is
# answered, on the chain the metadata names.
source "$LQ_TOP/tests/lib.sh"
at_exit kill_servers
python3 "$LQ_TESTS/lq_stuck.py" "$PWD/sr"
