#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every SR, Volume and Plugin call of the fileqcow plugin through the
# xapi-storage-script mock, which checks each result against the IDL.
source "$LQ_TOP/tests/lib.sh"

note "the xe front: capabilities derived from the installed scripts"
caps=$(xe plugin-query type=fileqcow)
for c in SR_ATTACH SR_CREATE SR_DELETE SR_DETACH SR_PROBE SR_SCAN SR_UPDATE VDI_CREATE VDI_DELETE VDI_UPDATE; do
	json_get "$caps" 'j["capabilities"]' | grep -q "\"$c\"" || die "capability $c missing"
done
for c in VDI_SNAPSHOT VDI_CLONE VDI_RESIZE VDI_RESIZE_ONLINE; do
	json_get "$caps" 'j["capabilities"]' | grep -q "$c" || die "$c not advertised"
done
mkdir sr
python3 "$LQ_TESTS/lq_calls.py" lifecycle "$PWD"
