#!/usr/bin/env bash
# The committed CIFAR-10 results: the quick preset for every policy, the LR range test on the
# full training set, then the paper preset. Every step resumes or is skipped when done, so run
# this again to continue where it stopped. Data: the team's offline copy (or $CLR_CIFAR10).
set -u
DATA=${CLR_CIFAR10:-../shared/data/cifar10.npz}
for policy in fixed triangular triangular2 exp_range exp decay; do
  python -m clr.experiments "$policy" --preset quick --data "$DATA" --out results || exit 1
done
[ -f results/paper/range_test.json ] || python -m clr.experiments range_test --preset paper --data "$DATA" --out results || exit 1
for policy in triangular2 exp_range fixed; do
  python -m clr.experiments "$policy" --preset paper --data "$DATA" --out results || exit 1
done
