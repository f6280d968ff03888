"""Time per iteration of clr.cyclic_lr on a 1,000,000-iteration array, against a plain Python
loop over the original callback's formula (the ratio is measured side by side in this run).

    python bench/bench_policy.py
"""

import math
import statistics
import time

import numpy as np

import clr

N = 1_000_000


def original_loop(n, base_lr=0.001, max_lr=0.006, step_size=2000):
    out = []
    for i in range(n):
        cycle = math.floor(1 + i / (2 * step_size))
        x = abs(i / step_size - 2 * cycle + 1)
        out.append(base_lr + (max_lr - base_lr) * max(0.0, 1 - x))
    return out


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main():
    iterations = np.arange(N)
    np.testing.assert_allclose(
        clr.cyclic_lr(iterations[:10_000]), original_loop(10_000), rtol=1e-12
    )
    rows = []
    for mode, gamma in [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.99994)]:
        vec, _ = best_of(
            lambda mode=mode, gamma=gamma: clr.cyclic_lr(iterations, mode=mode, gamma=gamma), 7
        )
        rows.append((mode, vec))
    loop, _ = best_of(lambda: original_loop(N), 3)
    print(
        f"clr.cyclic_lr over {N:,} iterations (best of 7) vs a Python loop over the original "
        "callback's formula (best of 3)"
    )
    print(f"  python loop (triangular): {loop * 1e9 / N:8.1f} ns/iteration")
    for mode, vec in rows:
        print(
            f"  clr.cyclic_lr {mode:12s}: {vec * 1e9 / N:8.1f} ns/iteration   speed-up "
            f"x{loop / vec:5.1f}"
        )
    scalar, _ = best_of(lambda: [clr.CyclicPolicy()(i) for i in range(2000)], 5)
    print(f"  scalar call (what CyclicLR does each batch): {scalar * 1e6 / 2000:.1f} us")


if __name__ == "__main__":
    main()
