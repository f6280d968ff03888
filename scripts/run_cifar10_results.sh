#!/usr/bin/env bash
# The committed CIFAR-10 results: the quick preset for every policy, then the paper preset
# (resumable: run this again to continue where it stopped). Data: the team's offline copy.
set -u
DATA=${CLR_CIFAR10:-../shared/data/cifar10.npz}
for policy in fixed triangular triangular2 exp_range exp decay; do
  python -m clr.experiments "$policy" --preset quick --data "$DATA" --out results || exit 1
done
for policy in triangular2 exp_range fixed; do
  python -m clr.experiments "$policy" --preset paper --data "$DATA" --out results || exit 1
done
