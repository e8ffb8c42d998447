#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Randomised write / zero / discard sequences at unaligned offsets through
# `lvqcow img`, against a plain byte-array model: after each sequence the
# engine, qemu-img convert and the model agree and qemu-img check is clean.
# Deterministic per seed (printed); LQ_SEEDS overrides the seed list.
source "$LQ_TOP/tests/lib.sh"

for seed in ${LQ_SEEDS:-1 2 3 4 5 6}; do
	python3 "$LQ_TESTS/lq_qcow2_random.py" "$LQ_BIN" "$seed" || die "seed $seed"
done
