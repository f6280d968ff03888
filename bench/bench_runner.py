"""How fast the CIFAR-10 runner trains cifar10_full, against what this machine can do.

Prints, from one process:

- the network's FLOPs per training step at batch 100, worked out layer by layer (forward
  2*MACs; backward twice that, less conv1's unneeded input gradient);
- this machine's float32 rate on a large TensorFlow matmul (4096 x 4096), the ceiling;
- the training-step time of several variants, timed in interleaved rounds (ABC ABC ...), each
  ratio the median of the per-round ratios, and each variant's GFLOP/s as a fraction of the
  matmul rate:

  runner      what ``clr.cifar10.runner`` does: ``train_on_batch`` with ``clr.keras.SGD``, the
              policy as a ``PolicySchedule`` and Caffe's bias ``lr_multipliers``
  by-hand     the earlier runner: Keras' SGD, the rate assigned before every batch
  momentum    the runner with 1cycle's scheduled momentum (``OneCycleMomentum``) instead of 0.9
  fit-spe20   ``model.fit`` over 20-batch chunks with ``steps_per_execution=20``

    python bench/bench_runner.py [--steps 40] [--rounds 5]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import clr  # noqa: E402
import clr.keras as ck  # noqa: E402
from clr.cifar10.models import caffe_lr_multipliers, cifar10_full  # noqa: E402

BATCH = 100


def training_flops(batch: int = BATCH) -> float:
    """FLOPs of one training step: 2*MACs forward, 4*MACs backward (input and weight
    gradients), except conv1 whose input gradient is never needed."""
    convs = [  # (name, k*k*c_in, c_out, output pixels)
        ("conv1", 5 * 5 * 3, 32, 32 * 32),
        ("conv2", 5 * 5 * 32, 32, 16 * 16),
        ("conv3", 5 * 5 * 32, 64, 8 * 8),
        ("ip1", 1024, 10, 1),
    ]
    total = 0.0
    for name, fan_in, c_out, pixels in convs:
        macs = fan_in * c_out * pixels * batch
        total += 2 * macs + (2 if name == "conv1" else 4) * macs
    return total


def matmul_rate(n: int = 4096, repeats: int = 10) -> float:
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.matmul(a, b).numpy()  # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        tf.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def compiled(optimizer, **compile_kwargs):
    model = cifar10_full(seed=0)
    model.build((None, 32, 32, 3))
    if callable(optimizer):
        optimizer = optimizer(model)
    model.compile(
        optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True), **compile_kwargs
    )
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(scale=60, size=(args.steps * BATCH, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=args.steps * BATCH)
    schedule = clr.CyclicPolicy(0.001, 0.006, 2000)

    def runner_sgd(momentum):
        return lambda model: ck.SGD(
            ck.PolicySchedule(schedule),
            momentum=momentum,
            lr_multipliers=caffe_lr_multipliers(model),
        )

    models = {
        "runner": compiled(runner_sgd(0.9)),
        "by-hand": compiled(keras.optimizers.SGD(0.001, momentum=0.9)),
        "momentum": compiled(runner_sgd(ck.OneCycleMomentum(100_000))),
        "fit-spe20": compiled(runner_sgd(0.9), steps_per_execution=20),
    }

    def loop(model, by_hand=False):
        for i in range(args.steps):
            if by_hand:
                model.optimizer.learning_rate = float(schedule(i))
            model.train_on_batch(x[i * BATCH : (i + 1) * BATCH], y[i * BATCH : (i + 1) * BATCH])

    def fit(model):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)

    run = {
        "runner": lambda: loop(models["runner"]),
        "by-hand": lambda: loop(models["by-hand"], by_hand=True),
        "momentum": lambda: loop(models["momentum"]),
        "fit-spe20": lambda: fit(models["fit-spe20"]),
    }
    for fn in run.values():  # trace, compile and warm up
        fn()
    times = {name: [] for name in run}
    for _ in range(args.rounds):
        for name, fn in run.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) / args.steps)

    flops = training_flops()
    peak = matmul_rate()
    print(
        f"cifar10_full, batch {BATCH}, {args.steps} steps x {args.rounds} interleaved rounds, "
        f"keras {keras.__version__} ({keras.backend.backend()}), {os.cpu_count()} CPUs"
    )
    print(
        f"  training step: {flops / 1e9:.2f} GFLOP; float32 matmul 4096x4096: {peak / 1e9:.0f} "
        "GFLOP/s"
    )
    for name, t in times.items():
        step = statistics.median(t)
        rate = flops / step
        print(
            f"  {name:10s}: {step * 1e3:7.2f} ms/step  {1 / step:5.1f} steps/s  {rate / 1e9:6.1f} "
            f"GFLOP/s = {rate / peak:.2f} of matmul"
        )
    for name in ("by-hand", "momentum", "fit-spe20"):
        ratios = [a / b for a, b in zip(times[name], times["runner"])]
        print(
            f"  {name} / runner: x{statistics.median(ratios):.3f}  (per-round "
            f"{', '.join(f'{r:.2f}' for r in ratios)})"
        )


if __name__ == "__main__":
    main()
