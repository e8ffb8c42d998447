#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Clusters leaked by a coalesce copy killed mid-way (either direction,
# leaf and non-leaf pairs) or by a killed resize are freed by the journal
# replay: afterwards qemu-img check finds no leak (see lq_gc_leaks.py).
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_gc_leaks.py" sr
