#!/usr/bin/env bash
# The committed CIFAR-10 results (Caffe's exact set-up, results/PRESET/seedN/): the quick preset
# for every policy, then every Table 1 row of the paper preset with seed 0, then seeds 1 and 2 of
# the rows the paper's claim rests on, then of one_cycle (the 1cycle policy). Every run resumes, or
# is skipped when done, so run this again to continue where it stopped. Data: the team's offline
# copy (or $CLR_CIFAR10).
# Usage: scripts/run_cifar10_results.sh [PYTHON]
set -u
PY=${1:-python}
DATA=${CLR_CIFAR10:-../shared/data/cifar10.npz}
run() { "$PY" -m clr.experiments "$@" --data "$DATA" --out results --quiet || exit 1; }
for policy in fixed triangular triangular2 exp_range exp decay one_cycle; do run "$policy" --preset quick; done
for policy in fixed triangular2 exp_range exp decay one_cycle; do run "$policy" --preset paper --seed 0; done
for seed in 1 2; do
  for policy in triangular2 exp_range fixed; do run "$policy" --preset paper --seed "$seed"; done
done
for seed in 1 2; do run one_cycle --preset paper --seed "$seed"; done
