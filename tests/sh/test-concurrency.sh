#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 8 concurrent clients, 200 operations in total (Volume.create, set,
# set_name, destroy), some of them all on one shared volume: afterwards
# the SR lists exactly the volumes that should exist, with the right
# names and keys (a lost update would drop one), and one image each.
source "$LQ_TOP/tests/lib.sh"

SRU=$(new_sr sr)
sr=$(realpath sr)

python3 "$LQ_TESTS/lq_concurrency.py" "$LQ_FILEQCOW" "$sr"
for img in $(ls sr/images/* | sed -n 1,5p); do qcheck "$img"; done
echo OK
