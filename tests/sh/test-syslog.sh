#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Syslog: every call logs a start and an end line with its dbg to a
# syslog socket (here one the test owns); a call is followed from start
# to end by its dbg, hostile dbg strings stay one line, the collector
# logs a coalesce's progress (tests/lq_syslog.py).
source "$LQ_TOP/tests/lib.sh"
export LQ_TESTS
python3 "$LQ_TESTS/lq_syslog.py"
