#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The command-line form of every call (the toolstack's static-vdis script
# at boot): results as JSON on stdout, equal to the --json form's; the
# static-vdis attach sequence serves the volume's data; hostile or missing
# arguments give the error JSON and change nothing (tests/lq_static_vdis.py).
source "$LQ_TOP/tests/lib.sh"
command -v qemu-io >/dev/null || skip "qemu-io not installed"
at_exit kill_servers
# No collector in the background: refused calls are proven by an unchanged SR.
export LVQCOW_GC_AUTO=0
python3 "$LQ_TESTS/lq_static_vdis.py" "$PWD"
