#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The collector coalesces the leaf of a volume that is attached and being
# written through NBD: its server streams the parent into the leaf while
# the writer goes on, then one short pause switches; no acknowledged
# write is lost.  Also: the collector or the server killed mid-stream, a
# pause, a snapshot and a detach during the stream.
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_live_coalesce.py" "$PWD/sr"
