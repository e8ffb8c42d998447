#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Snapshot, clone and resize while the volume is attached and written
# through NBD: no acknowledged write is lost, snapshots hold the data of
# their moment, no write fails; then the collector brings the chain back.
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_live.py" live
