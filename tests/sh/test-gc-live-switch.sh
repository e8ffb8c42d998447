#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A non-leaf coalesce under a volume attached and written through NBD, up
# and down: the server is moved onto the new chain (down makes the merged
# node the root), no write fails or is lost, no removed image stays open.
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_live_switch.py" sw
