"""The paper preset's report from the committed runs (complete runs only; unfinished ones are
listed with their iteration): Table 1 over seeds and its verdict, the ablations against what
each changes, the data-quality dose-response, the paper's Table 3 beside ours, and the
README's figures.

Usage: python scripts/cifar10_report.py [--markdown] [--figures docs/img] [--readme README.md]

``--readme`` rewrites the README's generated blocks (between ``<!-- report:NAME -->`` and
``<!-- /report:NAME -->``): the seed table, the ablations, the dose-response and Table 3.
"""

from __future__ import annotations

import argparse
import re
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
    parser.add_argument("--readme", default=None, help="rewrite this README's generated blocks")
    args = parser.parse_args()
    root = results.results_dir()
    complete, running = results.split_complete(results.load_seeds(root / "paper", ALL_POLICIES))
    for policy_name, seeds in running.items():
        print(
            f"in progress: {policy_name}", ", ".join(f"seed {s} at {i:,}" for s, i in seeds.items())
        )
    table1 = {p: runs for p, runs in complete.items() if p in POLICIES}
    rows = results.seed_table(table1)
    blocks = {"seed-table": results.format_seed_table(rows, markdown=True)}
    print("\n## Table 1 over seeds\n")
    print(results.format_seed_table(rows, markdown=args.markdown), end="\n\n")
    print("\n\n".join(results.verdict(rows)))
    print("\n## The ablations\n")
    blocks["ablations"] = ablations.format_ablations(ablations.ablation_rows(complete))
    print(blocks["ablations"])
    print("\n## The data's quality\n")
    points = ablations.data_quality_points(root, complete)
    fit = ablations.fit_dose_response(points)
    by_seed = ablations.fit_dose_response(points, seed_terms=True)
    blocks["dose-response"] = dose_response_text(points, fit, by_seed)
    print(blocks["dose-response"])
    print("\n## Table 3\n")
    blocks["table3"] = ablations.format_table3(ablations.table3_rows(root))
    print(blocks["table3"])

    figures = Path(args.figures)
    fig = plot_seed_comparison(
        table1, title="Test accuracy, paper preset, Caffe's exact set-up (complete runs)"
    )
    fig.savefig(figures / "cifar10_paper_seeds.png", dpi=80)
    if fit is not None:
        fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
        plot_dose_response(points, fit, ax=ax, by_seed=by_seed)
        fig.savefig(figures / "cifar10_dose_response.png", dpi=80)
    print(f"\nfigures: {figures}/cifar10_paper_seeds.png, cifar10_dose_response.png")
    if args.readme:
        rewrite(Path(args.readme), blocks)
        print(f"README blocks rewritten: {', '.join(blocks)}")


def dose_response_text(points: list[dict], fit: dict | None, by_seed: dict | None) -> str:
    lines = [
        f"- {p['label']}: distortion {p['mse']:.0f} (PSNR {p['psnr_db']:.1f} dB), seeds "
        f"{', '.join(map(str, p['seeds']))}: fixed {sum(p['fixed']) / len(p['fixed']):.2f} %, "
        f"triangular2 {sum(p['triangular2']) / len(p['triangular2']):.2f} %, gap "
        + ", ".join(f"{g:+.2f}" for g in p["gaps"])
        for p in points
    ]
    if fit is None:
        lines.append("- the line needs two copies with complete runs: the re-encoded ones run now")
        return "\n".join(lines)
    lines.append("- " + ablations.describe_dose_response(fit))
    if by_seed is not None:
        lines.append("- " + ablations.describe_dose_response(by_seed))
    lines.append(
        "\n![Each seed's gap, triangular2 minus fixed, against each copy's distortion from the "
        "original, the two lines (pooled; a term per seed) back to the original with their "
        "intervals, the paper's tie]"
        "(docs/img/cifar10_dose_response.png)"
    )
    return "\n".join(lines)


def rewrite(path: Path, blocks: dict[str, str]) -> None:
    """Each block between its two markers in ``path`` replaced by its new text."""
    text = path.read_text()
    for name, block in blocks.items():
        text = re.sub(
            rf"(<!-- report:{name} -->\n).*?(<!-- /report:{name} -->)",
            lambda m, block=block: m.group(1) + block + "\n" + m.group(2),
            text,
            flags=re.S,
        )
    path.write_text(text)


if __name__ == "__main__":
    main()
