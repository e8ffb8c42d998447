#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The collector gives back the space a coalesce freed at the end of the
# surviving image: its file is cut to the image end.
source "$LQ_TOP/tests/lib.sh"
python3 "$LQ_TESTS/lq_give_back.py" "$PWD/sr"
