"""Time of one policy-explorer control change (recompute and redraw of a 100,000-iteration
schedule) over the time of a bare ``figure.canvas.draw()`` of the same figure.

Each change moves ``step_size`` (which moves every annotation too) and then draws, the work
the browser waits for; the bare draw re-renders the unchanged figure. The two are timed in
alternation and the ratio is the median over all pairs.

    python bench/bench_explorer.py [--changes 60]
"""

import argparse
import statistics
import time

from clr.widgets import PolicyExplorer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=60)
    args = parser.parse_args()

    explorer = PolicyExplorer(iterations=100_000, mode="triangular2")
    canvas = explorer.figure.canvas
    canvas.draw()  # warm caches (fonts, text layout)
    change, bare = [], []
    for k in range(args.changes):
        t0 = time.perf_counter()
        explorer.step_size.value = 1500 + (k % 2) * 500  # alternate 1500/2000: always a real change
        canvas.draw()
        change.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        canvas.draw()
        bare.append(time.perf_counter() - t0)
    ratios = [c / b for c, b in zip(change, bare)]
    print(f"policy explorer, 100,000 iterations, {args.changes} changes of step_size")
    print(
        f"  control change (recompute + redraw): {statistics.median(change) * 1e3:6.1f} ms (median)"
    )
    print(
        f"  bare canvas.draw():                  {statistics.median(bare) * 1e3:6.1f} ms (median)"
    )
    print(
        f"  ratio change / bare draw: x{statistics.median(ratios):.2f} (median of pairs; quartiles "
        f"{statistics.quantiles(ratios, n=4)[0]:.2f}-{statistics.quantiles(ratios, n=4)[2]:.2f})"
    )


if __name__ == "__main__":
    main()
