"""The ablations: each against what it changes, and the data-quality dose-response (numpy
only). The paper's Table 3 is :mod:`clr.cifar10.table3`.

Every comparison is of final test accuracies over the seeds both sides have, judged by
Student's t (:func:`clr.cifar10.results.compare_finals`: paired by seed where seeds are shared).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .protocol import PAPER_TABLE1
from .results import compare_finals, load_seeds, split_complete

__all__ = [
    "COMPARISONS",
    "COPY_MSE",
    "ablation_rows",
    "data_quality_points",
    "fit_dose_response",
    "describe_dose_response",
    "format_ablations",
]

# Each ablation and what it is judged against: (ablation, reference, the question it asks).
COMPARISONS = [
    (
        "exp_range_bounds",
        "exp_range",
        "the paper's exp_range (both bounds decay) instead of the callback's (amplitude only)",
    ),
    (
        "fixed_25k",
        "triangular2",
        "an annealed baseline on triangular2's 25,000 iterations (Caffe's drops at 60/70, 65/70)",
    ),
    (
        "triangular2_global",
        "triangular2",
        "triangular2's halving counted from iteration 0 across the phases, not restarted",
    ),
    ("one_cycle_006", "one_cycle", "1cycle peaking at the paper's max_lr 0.006, not 0.004"),
    ("one_cycle_008", "one_cycle", "1cycle peaking at 0.008, near the range test's accuracy peak"),
]

# Our copy of CIFAR-10 against the original: "per-pixel error about 8 on the 0-255 scale (PSNR
# about 30 dB)" (../shared/data/README.md): 255**2 / 10**3.
COPY_MSE = 255.0**2 / 10**3.0


def _finals(runs: dict[int, dict[str, np.ndarray]]) -> dict[int, float]:
    return {seed: 100 * float(r["test_accuracy"][-1]) for seed, r in runs.items()}


def _summary(finals: dict[int, float]) -> tuple[float, float | None]:
    values = np.array(list(finals.values()))
    return float(values.mean()), (float(values.std(ddof=1)) if values.size > 1 else None)


def ablation_rows(complete: dict[str, dict[int, dict[str, np.ndarray]]]) -> list[dict[str, Any]]:
    """Each ablation in :data:`COMPARISONS` with complete runs, against its reference: final
    accuracies (mean, sd, seeds), the difference and its test; the paper's number where it has
    one."""
    rows = []
    for name, reference, question in COMPARISONS:
        if name not in complete or reference not in complete:
            continue
        a, b = _finals(complete[name]), _finals(complete[reference])
        test = compare_finals(a, b)
        shared = sorted(set(a) & set(b))
        rows.append(
            dict(
                ablation=name,
                reference=reference,
                question=question,
                seeds=sorted(a),
                reference_seeds=sorted(b),
                accuracy=_summary(a),
                reference_accuracy=_summary(b),
                difference=_summary(a)[0] - _summary(b)[0],
                shared_seeds=shared,
                shared_difference=float(np.mean([a[s] - b[s] for s in shared])) if shared else None,
                test=test,
                paper=PAPER_TABLE1.get(name if name != "exp_range_bounds" else "exp_range"),
            )
        )
    return rows


def _copies(path: Path) -> list[tuple[str, float]]:
    """(quality, mean squared error against our copy) of each re-encoded copy, best first, from
    the record ``scripts/jpeg_copies.py`` writes; a damaged record is one line naming it."""
    try:
        record = json.loads(path.read_text())
        copies = [
            (str(int(q)), float(c["against_source"]["mse"])) for q, c in record["copies"].items()
        ]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(
            f"{path} is not a record of JPEG copies ({type(err).__name__}: {err}): expected "
            '{"copies": {QUALITY: {"against_source": {"mse": NUMBER}}}}'
        ) from None
    if not all(math.isfinite(mse) and mse >= 0 for _, mse in copies):
        raise ValueError(f"{path}: every copy's mse must be a finite number >= 0.")
    return sorted(copies, key=lambda qc: -int(qc[0]))


def data_quality_points(
    root: str | os.PathLike, paper: dict[str, dict[int, dict[str, np.ndarray]]]
) -> list[dict[str, Any]]:
    """The gap (triangular2 after 25,000 iterations minus fixed after 70,000) on our copy and on
    each re-encoded copy with complete runs, against each copy's estimated distortion from the
    original: :data:`COPY_MSE` plus its own mean squared error from our copy
    (``results/ablations/jpeg_copies.json``), the two taken as independent."""
    root = Path(root)
    sources = [("our copy (JPEG about 75)", 0.0, paper)]
    for quality, copy in _copies(root / "ablations" / "jpeg_copies.json"):
        runs = load_seeds(root / "ablations" / f"jpeg{quality}" / "paper")
        sources.append(
            (
                f"re-encoded at quality {quality}",
                copy,
                split_complete(runs)[0],
            )
        )
    points = []
    for label, extra_mse, runs in sources:
        if "fixed" not in runs or "triangular2" not in runs:
            continue
        fixed, tri2 = _finals(runs["fixed"]), _finals(runs["triangular2"])
        seeds = sorted(set(fixed) & set(tri2))
        if not seeds:
            continue
        mse = COPY_MSE + extra_mse
        points.append(
            dict(
                label=label,
                mse=mse,
                psnr_db=10 * math.log10(255.0**2 / mse),
                seeds=seeds,
                fixed=[fixed[s] for s in seeds],
                triangular2=[tri2[s] for s in seeds],
                gaps=[tri2[s] - fixed[s] for s in seeds],
            )
        )
    return points


def fit_dose_response(
    points: list[dict[str, Any]], seed_terms: bool = False
) -> dict[str, Any] | None:
    """A straight line through every seed's gap against the distortion: what it says at the
    original data (distortion 0) with its 95 % interval (``low``, ``high``), and its slope
    with its own interval (``slope_low``, ``slope_high``) and the two-sided p-value of "the
    data's quality does not change the gap" (``slope_p``).

    ``seed_terms=True`` gives each seed its own intercept (the points need their ``seeds``): a
    seed's runs share initial weights and batch order across the copies, so its gaps may sit
    above or below the others' on every copy. The slope then comes from within seeds only, and
    the value at the original is the mean of the seeds' intercepts. A seed run on one copy
    only then adds to that mean but not to the slope.

    None while the slope cannot be fitted (fewer than two distortions; with ``seed_terms``, no
    seed on two); the intervals are None without a residual degree of freedom."""
    from .stats import t_quantile, t_sf

    if not points:
        return None
    x = np.concatenate([[p["mse"]] * len(p["gaps"]) for p in points])
    y = np.concatenate([p["gaps"] for p in points])
    n = x.size
    if seed_terms:
        if any(len(p.get("seeds", ())) != len(p["gaps"]) for p in points):
            raise ValueError(
                "`points` must name the seed of each gap for `seed_terms=True`: each point's "
                "'seeds' as long as its 'gaps'."
            )
        group = np.concatenate([p["seeds"] for p in points])
    else:  # pooled: every run in one group, so one intercept
        group = np.zeros(n)
    groups = sorted(set(group.tolist()))
    if not any(np.ptp(x[group == g]) > 0 for g in groups):  # no slope to fit
        return None
    design = np.stack([(group == g).astype(float) for g in groups] + [x], 1)
    at_origin = np.array([1.0 / len(groups)] * len(groups) + [0.0])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    df = n - design.shape[1]
    fit = dict(
        intercept=float(at_origin @ coef), slope=float(coef[-1]), n=n, df=df, seed_terms=seed_terms
    )
    if df < 1:
        return fit | dict(low=None, high=None, slope_low=None, slope_high=None, slope_p=None)
    residual = y - design @ coef
    cov = float(residual @ residual) / df * np.linalg.inv(design.T @ design)
    se, slope_se = math.sqrt(at_origin @ cov @ at_origin), math.sqrt(cov[-1, -1])
    q = t_quantile(0.975, df)
    if slope_se > 0:
        slope_p = min(1.0, 2 * t_sf(abs(fit["slope"]) / slope_se, df))
    else:  # points exactly on a line
        slope_p = 0.0 if fit["slope"] != 0 else 1.0
    return fit | dict(
        low=fit["intercept"] - q * se,
        high=fit["intercept"] + q * se,
        slope_low=fit["slope"] - q * slope_se,
        slope_high=fit["slope"] + q * slope_se,
        slope_p=slope_p,
    )


def describe_dose_response(fit: dict[str, Any]) -> str:
    """A line from :func:`fit_dose_response` in words: its slope with interval and p-value, and
    what it says at the original data with its interval."""
    how = "with a term per seed (slope from within seeds)" if fit["seed_terms"] else "pooled"
    interval = slope = ""
    if fit["low"] is not None:
        interval = f" (95 % CI {fit['low']:+.2f} to {fit['high']:+.2f})"
        slope = (
            f" (slope 95 % CI {fit['slope_low']:+.4f} to {fit['slope_high']:+.4f}, "
            f"p = {fit['slope_p']:.2g} against a flat line)"
        )
    return (
        f"the line, {how}: gap = {fit['intercept']:+.2f} {fit['slope']:+.4f} x distortion{slope}; "
        f"at the original {fit['intercept']:+.2f} points{interval}, from {fit['n']} runs "
        f"({fit['df']} residual df)"
    )


def _accuracy_text(summary: tuple[float, float | None], n: int) -> str:
    mean, sd = summary
    return f"{mean:.2f}" + ("" if sd is None else f" ± {sd:.2f}") + f" ({n})"


def format_ablations(rows: list[dict[str, Any]]) -> str:
    """The ablation table as markdown: accuracy % (mean ± sd (seeds)), the reference's, the
    difference on the seeds both have, and its test."""
    from .results import describe_test

    lines = [
        "| ablation | what it changes | accuracy % | against | its accuracy % | difference "
        "(shared seeds) | test | paper % |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        shared = (
            "-"
            if r["shared_difference"] is None
            else f"{r['shared_difference']:+.2f} ({len(r['shared_seeds'])})"
        )
        accuracy = _accuracy_text(r["accuracy"], len(r["seeds"]))
        reference = _accuracy_text(r["reference_accuracy"], len(r["reference_seeds"]))
        paper = "-" if r["paper"] is None else f"{r['paper'][1]:.1f}"
        lines.append(
            f"| {r['ablation']} | {r['question']} | {accuracy} | {r['reference']} | {reference} "
            f"| {shared} | {describe_test(r['test'])} | {paper} |"
        )
    return "\n".join(lines)
