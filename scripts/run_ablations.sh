#!/usr/bin/env bash
# Why Table 1 does not reproduce: the ablations at paper scale (issue 22), in the order that
# answers most first. Every run resumes, or is skipped when done, so run this again to continue
# where it stopped.
#   1. seed 0 of each ablation in results/paper/ (protocol.ABLATIONS): the paper's exp_range
#      (exp_range_bounds), an annealed 25k baseline (fixed_25k), triangular2 with its halving
#      counted from 0 (triangular2_global), 1cycle peaking at 0.006 and 0.008;
#   2. the data-quality dose-response, seed 0: fixed and triangular2 on copies re-encoded as
#      JPEG at quality 30 and 20 (scripts/jpeg_copies.py makes them, in data/), results in
#      results/ablations/jpegQ/;
#   3. the grid's first paper-scale trial, Table 3's Nesterov triangular row (25k): a fault
#      that only shows at paper scale under Ray shows after half an hour, not after ten hours;
#   4. seeds 1 and 2 of exp_range_bounds, then seed 1 of every other ablation and copy;
#   5. the rest of the paper's Table 3 on the Ray grid, seed 0: Nesterov, AdaGrad, AdaDelta
#      (fixed 70k, triangular 25k), then Adam and RMSprop (fixed 70k, triangular 70k, whose
#      first 25,000 iterations are their triangular 25k row, batch for batch).
# (1cycle's higher peaks stop at two seeds: their seeds spread so widely that a third would
# leave the 95 % interval about +-2 points around effects of 0.3-0.4; docs/reproduction.md
# gives the seeds 80 % power would need.)
# Data: the team's offline copy (or $CLR_CIFAR10).
# Usage: scripts/run_ablations.sh [PYTHON]
set -u
PY=${1:-python}
DATA=${CLR_CIFAR10:-../shared/data/cifar10.npz}
run() { "$PY" -m clr.experiments "$@" --preset paper --quiet || exit 1; }
for q in 30 20; do
  [ -f "data/cifar10-jpeg$q.npz" ] || "$PY" scripts/jpeg_copies.py --data "$DATA" --quality 30 20 || exit 1
done
ablations="fixed_25k triangular2_global one_cycle_006 one_cycle_008"
run exp_range_bounds --seed 0 --data "$DATA" --out results
for policy in $ablations; do run "$policy" --seed 0 --data "$DATA" --out results; done
for q in 30 20; do
  for policy in triangular2 fixed; do
    run "$policy" --seed 0 --data "data/cifar10-jpeg$q.npz" --out "results/ablations/jpeg$q"
  done
done
grid() { "$PY" -m clr.experiments grid --preset paper --seeds 0 --data "$DATA" --out results --cpus-per-trial 2 "$@" || exit 1; }
grid --policies triangular --optimizers nesterov
for seed in 1 2; do run exp_range_bounds --seed "$seed" --data "$DATA" --out results; done
for policy in $ablations; do run "$policy" --seed 1 --data "$DATA" --out results; done
for q in 30 20; do
  for policy in triangular2 fixed; do
    run "$policy" --seed 1 --data "data/cifar10-jpeg$q.npz" --out "results/ablations/jpeg$q"
  done
done
grid --policies fixed triangular --optimizers nesterov adagrad adadelta
grid --policies fixed triangular_70k --optimizers adam rmsprop
