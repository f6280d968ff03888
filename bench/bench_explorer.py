"""Kernel-side time of each policy-explorer control change (recompute, redraw and the PNG ipympl
sends) beside a bare full ``figure.canvas.draw()`` of the same figure, in one run.

The canvas is told a browser shows it (ipympl's own flag), so every change paints and encodes
its image as in the browser; sending is stubbed out. Each control moves back and forth by one
key press's step, in alternation with a bare full draw; the ratio of each pair is reported.
Also: one press's image as PNG at zlib level 6 (PIL's default, ipympl's) and level 1 (ours).

    python bench/bench_explorer.py [--changes 40] [--iterations 20000]
"""

import argparse
import io
import statistics
import time

import numpy as np
from PIL import Image

from clr.widgets import PolicyExplorer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args()

    explorer = PolicyExplorer(iterations=args.iterations, mode="triangular2")
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False  # as once a browser has shown the canvas
    canvas.send_binary = lambda data: None
    canvas.draw()  # warm caches (fonts, text layout)
    n = args.iterations
    moves = {
        "base_lr": ("base_lr", (0.001, 0.00102)),
        "max_lr": ("max_lr", (0.006, 0.00606)),
        "step_size": ("step_size", (2000, 2001)),
        "iterations": ("iterations", (n + 100, n)),
        "mode": ("mode", ("triangular2", "triangular")),
        "compare": ("compare", (True, False)),
    }
    for control, values in moves.values():  # settle each axis once (a new top)
        getattr(explorer, control).value = values[0]
    times: dict[str, list[float]] = {name: [] for name in (*moves, "bare")}
    ratios: dict[str, list[float]] = {name: [] for name in moves}
    for k in range(args.changes):
        for name, (control, values) in moves.items():
            t0 = time.perf_counter()
            getattr(explorer, control).value = values[k % 2]
            change = time.perf_counter() - t0
            t0 = time.perf_counter()
            canvas.draw()
            bare = time.perf_counter() - t0
            times[name].append(change)
            times["bare"].append(bare)
            ratios[name].append(change / bare)
    print(f"policy explorer, {n:,} iterations, {args.changes} changes per control")
    print(
        f"  bare canvas.draw() (full draw + PNG): {statistics.median(times['bare']) * 1e3:6.1f} ms"
    )
    for name in moves:
        q = statistics.quantiles(ratios[name], n=4)
        print(
            f"  {name:10s} change: {statistics.median(times[name]) * 1e3:6.1f} ms, "
            f"x{statistics.median(ratios[name]):.2f} of a bare draw (median of pairs; quartiles "
            f"{q[0]:.2f}-{q[2]:.2f})"
        )
    # The image one press sends: the pixels that changed, zero elsewhere (ipympl's diff).
    before = np.asarray(canvas.get_renderer().buffer_rgba()).view(np.uint32).copy()
    explorer.base_lr.value = 0.00104
    after = np.asarray(canvas.get_renderer().buffer_rgba()).view(np.uint32).copy()
    diff = np.where(after != before, after, 0).view(np.uint8)
    for level in (6, 1):
        t, size = [], 0
        for _ in range(20):
            t0 = time.perf_counter()
            with io.BytesIO() as png:
                Image.fromarray(diff).save(png, format="png", compress_level=level)
                size = len(png.getvalue())
            t.append(time.perf_counter() - t0)
        print(
            f"  one press's diff image as PNG at zlib level {level}: "
            f"{statistics.median(t) * 1e3:4.1f} ms, {size:,} bytes"
        )


if __name__ == "__main__":
    main()
