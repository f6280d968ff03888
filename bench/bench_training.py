"""Training-step time of the cifar10_full network (batch 100, SGD momentum 0.9) with
CyclicalLearningRate (a schedule) and with the CyclicLR callback, each over a constant rate.

The three variants are timed in interleaved rounds in one process (ABC ABC ...), and each
ratio is the median of the per-round ratios: wall times on shared machines drift, ratios
measured side by side do not.

    python bench/bench_training.py [--steps 200] [--rounds 5]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from clr.cifar10.models import cifar10_full  # noqa: E402
from clr.keras import CyclicalLearningRate, CyclicLR  # noqa: E402


def build(learning_rate):
    model = cifar10_full(seed=0)
    model.compile(
        keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(scale=60, size=(args.steps * 100, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=args.steps * 100)
    variants = {
        "constant": (build(0.001), []),
        "schedule": (build(CyclicalLearningRate(0.001, 0.006, 2000)), []),
        "callback": (build(0.001), [CyclicLR(0.001, 0.006, 2000)]),
    }
    for model, callbacks in variants.values():  # compile and warm up
        model.fit(x[:2000], y[:2000], batch_size=100, epochs=1, verbose=0, callbacks=callbacks)

    times = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (model, callbacks) in variants.items():
            t0 = time.perf_counter()
            model.fit(x, y, batch_size=100, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)
            times[name].append((time.perf_counter() - t0) / args.steps)

    print(
        f"cifar10_full, batch 100, {args.steps} steps x {args.rounds} interleaved rounds, keras "
        f"{keras.__version__} ({keras.backend.backend()})"
    )
    for name, t in times.items():
        print(
            f"  {name:9s}: {statistics.median(t) * 1e3:7.2f} ms/step  "
            f"({1 / statistics.median(t):5.1f} steps/s)"
        )
    for name in ("schedule", "callback"):
        ratios = [a / b for a, b in zip(times[name], times["constant"])]
        print(
            f"  {name} / constant: x{statistics.median(ratios):.3f}  (per-round ratios "
            f"{', '.join(f'{r:.3f}' for r in ratios)})"
        )


if __name__ == "__main__":
    main()
