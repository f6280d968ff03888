"""The grid's overhead against single runs, on the same runs.

Runs one policy at one preset twice over, as a single run (``python -m clr.experiments
POLICY``) and as a one-trial grid on Ray (``python -m clr.experiments grid --policies POLICY``),
each into a fresh folder, in alternation, and prints the wall time of each and the difference:
what the grid adds (starting and stopping a local Ray cluster, the trial's process) to a run.
Set against a paper-scale run of about an hour, that is the grid's share.

    python bench/bench_grid.py [--policy fixed] [--preset quick] [--data synthetic] [--rounds 3]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policy", default="fixed")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = [sys.executable, "-m", "clr.experiments"]
    common = ["--preset", args.preset, "--data", args.data, "--quiet"]
    single, grid = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            single.append(timed([*base, args.policy, *common, "--out", a]))
            grid.append(timed([*base, "grid", "--policies", args.policy, "--seeds", "0",
                               "--cpus-per-trial", "2", *common, "--out", b]))  # fmt: skip
    s, g = statistics.median(single), statistics.median(grid)
    print(f"{args.policy}, {args.preset} preset, {args.rounds} rounds, wall time (median)")
    print(f"  single run: {s:6.1f} s   ({', '.join(f'{x:.1f}' for x in single)})")
    print(f"  one-trial grid on Ray: {g:6.1f} s   ({', '.join(f'{x:.1f}' for x in grid)})")
    # The difference holds Ray's start (once per grid) and the trial's own process (per trial),
    # so it bounds what each trial of a larger grid pays.
    print(f"  the grid adds {g - s:.1f} s (x{g / s:.2f} here); at most that per trial, which")
    print(f"  against a one-hour paper-scale trial is {100 * (g - s) / 3600:.1f} %")


if __name__ == "__main__":
    main()
