"""How the CIFAR-10 runner feeds the cifar10_full network, and what that costs per step.

Variants, timed in interleaved rounds in one process (ABC ABC ...), each ratio the median of
the per-round ratios:

- ``fit``: ``model.fit`` on numpy arrays, batch 100 (what the runner did first);
- ``train_on_batch``: one ``train_on_batch`` per step, as ``clr.cifar10.runner`` does;
- ``train_on_batch, pow LRN``: the same loop with the LRN written as ``ops.power`` (the
  layer now uses ``exp(-beta * log1p(.))``, the same value).

On a 2-core CPU, fit's tf.data pipeline starts autotuned threads that compete with the
convolutions for the cores; the plain loop has none.

    python bench/bench_training_loop.py [--steps 60] [--rounds 7]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from clr.cifar10 import models  # noqa: E402


class PowLRN(models.WithinChannelLRN):
    def call(self, x):
        pad = self.local_size // 2
        squares = ops.pad(ops.square(x), [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        return x * ops.power(1.0 + self.alpha * self._pool(squares), -self.beta)


def build(lrn=None):
    original = models.WithinChannelLRN
    if lrn is not None:
        models.WithinChannelLRN = lrn
    try:
        model = models.cifar10_full(seed=0)
    finally:
        models.WithinChannelLRN = original
    model.compile(
        keras.optimizers.SGD(learning_rate=0.001, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def by_fit(model, x, y):
    model.fit(x, y, batch_size=100, epochs=1, verbose=0, shuffle=False)


def by_train_on_batch(model, x, y):
    for start in range(0, len(x), 100):
        model.optimizer.learning_rate = 0.001  # as the runner sets it every step
        model.train_on_batch(x[start : start + 100], y[start : start + 100])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(scale=60, size=(args.steps * 100, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=args.steps * 100)
    variants = {
        "fit": (build(), by_fit),
        "train_on_batch": (build(), by_train_on_batch),
        "train_on_batch, pow LRN": (build(PowLRN), by_train_on_batch),
    }
    for model, feed in variants.values():  # trace and warm up
        feed(model, x[:2000], y[:2000])

    times = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (model, feed) in variants.items():
            t0 = time.perf_counter()
            feed(model, x, y)
            times[name].append((time.perf_counter() - t0) / args.steps)

    print(
        f"cifar10_full, batch 100, {args.steps} steps x {args.rounds} interleaved rounds, keras "
        f"{keras.__version__} ({keras.backend.backend()}), {os.cpu_count()} CPUs"
    )
    for name, t in times.items():
        print(
            f"  {name:24s}: {statistics.median(t) * 1e3:7.2f} ms/step  "
            f"({1 / statistics.median(t):5.1f} steps/s)"
        )
    for a, b in (("fit", "train_on_batch"), ("train_on_batch, pow LRN", "train_on_batch")):
        ratios = [p / q for p, q in zip(times[a], times[b])]
        print(
            f"  {a} / {b}: x{statistics.median(ratios):.2f}  (per-round ratios "
            f"{', '.join(f'{r:.2f}' for r in ratios)})"
        )


if __name__ == "__main__":
    main()
