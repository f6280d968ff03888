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


def markdown_table(rows: list[dict]) -> str:
    """The seed table as the README's markdown."""
    lines = [
        "| policy | seeds | iterations | test accuracy % (mean ± sd) | iterations to reach fixed's"
        " mean final accuracy (seeds that do) | fixed reaches this accuracy at (mean of its seeds)"
        " | paper: iterations, accuracy % |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        n = len(r["seeds"])
        sd = lambda x: "" if x is None else f" ± {x:,.1f}"  # noqa: E731
        reach = (
            f"never (0/{n})"
            if r["to_baseline_mean"] is None
            else f"{r['to_baseline_mean']:,.0f}{sd(r['to_baseline_sd'])} ({r['reached']}/{n})"
        )
        back = (
            "never" if r["baseline_to_same_mean"] is None else f"{r['baseline_to_same_mean']:,.0f}"
        )
        paper = (
            "-"
            if r["paper_iterations"] is None
            else f"{r['paper_iterations']:,}, {r['paper_accuracy']:.1f}"
        )
        lines.append(
            f"| {r['policy']} | {n} | {r['iterations']:,} | {r['accuracy_mean']:.1f}"
            f"{sd(r['accuracy_sd'])} | {reach} | {back} | {paper} |"
        )
    return "\n".join(lines)


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
    print(markdown_table(rows) if args.markdown else results.format_seed_table(rows), end="\n\n")
    print("\n\n".join(results.verdict(rows)))
    fig = plot_seed_comparison(
        complete, title="Test accuracy, paper preset, Caffe's exact set-up (complete runs)"
    )
    fig.savefig(args.figure, dpi=80)
    print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    main()
