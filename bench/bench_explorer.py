"""Kernel-side time of one policy-explorer control change (recompute of a 100,000-iteration
schedule, redraw and the PNG ipympl sends) over the time of a bare ``figure.canvas.draw()``.

The canvas is told a browser shows it (ipympl's own flag), so every change paints and encodes
its image as in the browser; sending is stubbed out. Two kinds of change, timed in alternation
with a bare full draw of the same figure:

- ``base_lr`` (the axes stay: only the curves are repainted on the kept background);
- ``iterations`` (a new x axis: everything is drawn again).

    python bench/bench_explorer.py [--changes 60]
"""

import argparse
import statistics
import time

from clr.widgets import PolicyExplorer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=60)
    args = parser.parse_args()

    explorer = PolicyExplorer(iterations=100_000, mode="triangular2")
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False  # as once a browser has shown the canvas
    canvas.send_binary = lambda data: None
    canvas.draw()  # warm caches (fonts, text layout)
    moves = {
        "base_lr": lambda k: setattr(explorer.base_lr, "value", (0.001, 0.0012)[k % 2]),
        "iterations": lambda k: setattr(explorer.iterations, "value", 100_000 - (k % 2) * 100),
    }
    times: dict[str, list[float]] = {name: [] for name in (*moves, "bare")}
    for k in range(args.changes):
        for name, move in moves.items():
            t0 = time.perf_counter()
            move(k)
            times[name].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            canvas.draw()
            times["bare"].append(time.perf_counter() - t0)
    print(f"policy explorer, 100,000 iterations, {args.changes} changes per control")
    print(
        f"  bare canvas.draw() (full draw + PNG): {statistics.median(times['bare']) * 1e3:6.1f} ms"
    )
    for name in moves:
        bare = times["bare"][list(moves).index(name) :: len(moves)]
        ratios = [c / b for c, b in zip(times[name], bare)]
        q = statistics.quantiles(ratios, n=4)
        print(
            f"  {name:10s} change: {statistics.median(times[name]) * 1e3:6.1f} ms, "
            f"x{statistics.median(ratios):.2f} of a bare draw (median of pairs; quartiles "
            f"{q[0]:.2f}-{q[2]:.2f})"
        )


if __name__ == "__main__":
    main()
