"""The paper preset's report from the committed runs (complete runs only; unfinished ones are
listed with their iteration): Table 1 over seeds and its verdict, the ablations against what
each changes, the data-quality dose-response, the paper's Table 3 beside ours, and the
README's figures.

Usage: python scripts/cifar10_report.py [--markdown] [--figures docs/img]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from clr.cifar10 import ablations, results  # noqa: E402
from clr.cifar10.plots import plot_dose_response, plot_seed_comparison  # noqa: E402
from clr.cifar10.protocol import ALL_POLICIES, POLICIES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", default="docs/img")
    parser.add_argument(
        "--markdown", action="store_true", help="the tables as the README's markdown"
    )
    args = parser.parse_args()
    root = results.results_dir()
    complete, running = results.split_complete(results.load_seeds(root / "paper", ALL_POLICIES))
    for policy_name, seeds in running.items():
        print(
            f"in progress: {policy_name}", ", ".join(f"seed {s} at {i:,}" for s, i in seeds.items())
        )
    table1 = {p: runs for p, runs in complete.items() if p in POLICIES}
    rows = results.seed_table(table1)
    print("\n## Table 1 over seeds\n")
    print(results.format_seed_table(rows, markdown=args.markdown), end="\n\n")
    print("\n\n".join(results.verdict(rows)))
    print("\n## The ablations\n")
    print(ablations.format_ablations(ablations.ablation_rows(complete)))
    print("\n## The data's quality\n")
    points = ablations.data_quality_points(root, complete)
    for p in points:
        print(
            f"{p['label']}: distortion {p['mse']:.0f} (PSNR {p['psnr_db']:.1f} dB), seeds "
            f"{p['seeds']}: fixed {sum(p['fixed']) / len(p['fixed']):.2f} %, triangular2 "
            f"{sum(p['triangular2']) / len(p['triangular2']):.2f} %, gap "
            + ", ".join(f"{g:+.2f}" for g in p["gaps"])
        )
    fit = ablations.fit_dose_response(points)
    if fit is not None:
        interval = (
            "" if fit["low"] is None else f" (95 % CI {fit['low']:+.2f} to {fit['high']:+.2f})"
        )
        print(
            f"line: gap = {fit['intercept']:+.2f} {fit['slope']:+.4f} x distortion; at the "
            f"original {fit['intercept']:+.2f} points{interval}, {fit['n']} runs"
        )
    print("\n## Table 3\n")
    print(ablations.format_table3(ablations.table3_rows(root)))

    figures = Path(args.figures)
    fig = plot_seed_comparison(
        table1, title="Test accuracy, paper preset, Caffe's exact set-up (complete runs)"
    )
    fig.savefig(figures / "cifar10_paper_seeds.png", dpi=80)
    if points:
        fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
        plot_dose_response(points, fit, ax=ax)
        fig.savefig(figures / "cifar10_dose_response.png", dpi=80)
    print(f"\nfigures: {figures}/cifar10_paper_seeds.png, cifar10_dose_response.png")


if __name__ == "__main__":
    main()
