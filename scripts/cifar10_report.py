"""The reproduction page from the committed runs (complete runs only; unfinished ones are listed
with their iteration): Table 1 over seeds and its verdict, the ablations, the data-quality
dose-response, the paper's Table 3 beside ours, what is not tested, and the page's figures.

Usage: python scripts/cifar10_report.py [--docs docs/reproduction.md] [--figures docs/img]
       [--results DIR]

Without ``--docs`` the page is printed; with it, written there (the documentation site's
reproduction page, which tests/test_report.py checks against the committed results). Every word
of it comes from ``clr.cifar10.report``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from clr.cifar10 import report  # noqa: E402
from clr.cifar10.plots import plot_dose_response, plot_seed_comparison  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default=None, help="write the page here (markdown)")
    parser.add_argument("--figures", default="docs/img", help="where the page's figures go")
    parser.add_argument(
        "--results", default=None, help="the runs to read (default: the committed results/)"
    )
    args = parser.parse_args()
    data = report.build(args.results)
    text = report.page(data)
    if args.docs:
        Path(args.docs).write_text(text)
        print(f"page written: {args.docs}")
    else:
        print(text)
    figures = Path(args.figures)
    fig = plot_seed_comparison(
        data["table1"], title="Test accuracy, paper preset, Caffe's exact set-up (complete runs)"
    )
    fig.savefig(figures / "cifar10_paper_seeds.png", dpi=80)
    if data["fit"] is not None:
        fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
        plot_dose_response(data["points"], data["fit"], ax=ax, by_seed=data["by_seed"])
        fig.savefig(figures / "cifar10_dose_response.png", dpi=80)
    print(f"figures: {figures}/cifar10_paper_seeds.png, cifar10_dose_response.png")


if __name__ == "__main__":
    main()
