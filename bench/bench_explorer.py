"""Kernel-side time of each policy-explorer control change (recompute, redraw and the PNG ipympl
sends) beside a bare full ``figure.canvas.draw()`` of the same figure, in one run.

The canvas is told a browser shows it (ipympl's own flag), so every change paints and encodes
its image as in the browser; sending is stubbed out. Each control moves back and forth by one
key press's step, in alternation with a bare full draw; the ratio of each pair is reported.
Also: one press's image as PNG by PIL (ipympl's encoder, at its default level 6 and at level 1)
and by clr.explorer.png (unfiltered rows, level 1: ours), at the notebook's size and at a
projector's (1878 x 526 px).

    python bench/bench_explorer.py [--changes 40] [--iterations 20000]
"""

import argparse
import io
import statistics
import time

import numpy as np
from PIL import Image

from clr.explorer.png import encode_rgba
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
    for label, projector, size in (
        ("notebook", False, "848 800"),
        ("projector", True, "1890 1080"),
    ):
        press_images(label, projector, size, args.iterations)


def press_images(label: str, projector: bool, size: str, iterations: int) -> None:
    """One press's image (the pixels that changed, zero elsewhere: ipympl's diff), encoded by
    PIL at levels 6 and 1 and by clr.explorer.png, side by side."""
    explorer = PolicyExplorer(iterations=iterations, mode="triangular2", projector=projector)
    explorer.size.value = size
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False
    canvas.send_binary = lambda data: None
    canvas.draw()
    before = np.asarray(canvas.get_renderer().buffer_rgba()).view(np.uint32).copy()
    explorer.base_lr.value = 0.00104
    after = np.asarray(canvas.get_renderer().buffer_rgba()).view(np.uint32).copy()
    diff = np.where(after != before, after, 0).view(np.uint8)
    height, width = diff.shape[:2]
    encoders = {
        "PIL, level 6 (ipympl's)": lambda: _pil(diff, 6),
        "PIL, level 1": lambda: _pil(diff, 1),
        "clr.explorer.png (ours)": lambda: encode_rgba(diff),
    }
    for name, encode in encoders.items():
        t, size_bytes = [], 0
        for _ in range(20):
            t0 = time.perf_counter()
            size_bytes = len(encode())
            t.append(time.perf_counter() - t0)
        print(
            f"  {label} {width}x{height}, one press's diff image, {name}: "
            f"{statistics.median(t) * 1e3:4.1f} ms, {size_bytes:,} bytes"
        )


def _pil(pixels: np.ndarray, level: int) -> bytes:
    with io.BytesIO() as png:
        Image.fromarray(pixels).save(png, format="png", compress_level=level)
        return png.getvalue()


if __name__ == "__main__":
    main()
