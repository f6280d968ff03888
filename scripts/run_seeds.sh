#!/usr/bin/env bash
# The seeds a skeptic asks for (issue 39), at paper scale, in the order that completes a reading
# soonest. Every run resumes, or is skipped when done, so run this again to continue where it
# stopped.
#   1. fixed_25k seed 2: the annealed 25k baseline gets the third seed that triangular2 has;
#   2. Table 3's seed 1 on the Ray grid, one optimizer at a time, so each optimizer's rows are
#      complete before the next starts: Nesterov, AdaGrad, AdaDelta (fixed 70k, triangular 25k),
#      then Adam and RMSprop (fixed 70k, triangular_70k, whose first 25,000 iterations are their
#      triangular 25k row, batch for batch, as at seed 0).
# About 590,000 iterations: 8-9 hours at the 18-23 steps/s of the seed-0 runs on 2 cores.
# How Table 3's two seeds are read was written down before these runs ended (commit 4f8787f):
# clr/cifar10/table3.py and docs/reproduction.md ("How the second seed is read").
# Data: the team's offline copy (or $CLR_CIFAR10).
# Usage: scripts/run_seeds.sh [PYTHON]
set -u
PY=${1:-python}
DATA=${CLR_CIFAR10:-../shared/data/cifar10.npz}
"$PY" -m clr.experiments fixed_25k --seed 2 --preset paper --data "$DATA" --out results --quiet || exit 1
grid() { "$PY" -m clr.experiments grid --preset paper --seeds 1 --data "$DATA" --out results --cpus-per-trial 2 "$@" || exit 1; }
for optimizer in nesterov adagrad adadelta; do grid --policies fixed triangular --optimizers "$optimizer"; done
for optimizer in adam rmsprop; do grid --policies fixed triangular_70k --optimizers "$optimizer"; done
