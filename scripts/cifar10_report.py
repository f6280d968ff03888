"""The paper preset's report from the committed runs: the seed table, the verdict and the
README's band figure (complete runs only; unfinished ones are listed with their iteration).

Usage: python scripts/cifar10_report.py [--figure docs/img/cifar10_paper_seeds.png] [--markdown]
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")

from clr.cifar10 import results  # noqa: E402
from clr.cifar10.plots import plot_seed_comparison  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure", default="docs/img/cifar10_paper_seeds.png")
    parser.add_argument(
        "--markdown", action="store_true", help="the table as the README's markdown"
    )
    args = parser.parse_args()
    complete, running = results.split_complete(results.load_seeds(results.results_dir() / "paper"))
    for policy_name, seeds in running.items():
        print(
            f"in progress: {policy_name}", ", ".join(f"seed {s} at {i:,}" for s, i in seeds.items())
        )
    rows = results.seed_table(complete)
    print(results.format_seed_table(rows, markdown=args.markdown), end="\n\n")
    print("\n\n".join(results.verdict(rows)))
    fig = plot_seed_comparison(
        complete, title="Test accuracy, paper preset, Caffe's exact set-up (complete runs)"
    )
    fig.savefig(args.figure, dpi=80)
    print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    main()
