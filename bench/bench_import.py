"""How long a fresh interpreter takes to import clr, beside an empty one and numpy alone.

``import clr`` imports nothing until a name is used, so that ``python -m clr.experiments``
handles Ctrl-C from its first moments and the slider notebook starts fast; using a name loads
numpy and the policies. Interleaved rounds, medians, in one run:

    python bench/bench_import.py [--rounds 9]
"""

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass": "pass",
    "import numpy": "import numpy",
    "import clr": "import clr",
    "import clr; clr.cyclic_lr": "import clr; clr.cyclic_lr",
    "import clr.cifar10.cli": "import clr.cifar10.cli",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, code in CASES.items():
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["python -c pass"])
    print(f"wall time of a fresh interpreter, median of {args.rounds} interleaved rounds")
    for name, values in times.items():
        m = statistics.median(values)
        print(f"  {name:28s} {1000 * m:6.0f} ms   (+{1000 * (m - base):4.0f} ms over an empty one)")


if __name__ == "__main__":
    main()
