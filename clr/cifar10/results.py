"""Reading the runs: their files, their curves, and Table 1 beside the paper's. numpy only.

Layout: ``OUT/PRESET/seedN/POLICY.csv`` (one row per evaluation), ``POLICY.json`` (provenance)
and ``POLICY.checkpoint.keras`` beside it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .protocol import PAPER_TABLE1, POLICIES, optimizer_folder, policy_schedule
from .runfiles import COLUMNS, RunError, check_values, parse_rows
from .stats import TTest, paired_t_test, welch_t_test

__all__ = [
    "COLUMNS",
    "run_paths",
    "results_dir",
    "read_results",
    "load_comparison",
    "load_seeds",
    "iterations_to_reach",
    "accuracy_at",
    "comparison_table",
    "format_table",
    "split_complete",
    "seed_table",
    "format_seed_table",
    "compare_finals",
    "describe_test",
]


def run_paths(
    out: str | os.PathLike, preset: str, seed: int, policy_name: str, optimizer_name: str = "sgd"
) -> dict[str, Path]:
    """The files of one run: ``csv``, ``provenance`` (JSON) and ``checkpoint``. SGD's runs (the
    paper's Table 1) sit in ``OUT/PRESET/seedN/``, other optimizers' (Table 3) in
    ``OUT/PRESET/OPTIMIZER/seedN/``."""
    folder = Path(out) / preset / optimizer_folder(optimizer_name) / f"seed{seed}"
    return {
        "csv": folder / f"{policy_name}.csv",
        "provenance": folder / f"{policy_name}.json",
        "checkpoint": folder / f"{policy_name}.checkpoint.keras",
    }


def results_dir() -> Path:
    """Where the committed results are: ``$CLR_RESULTS``; else ``results/`` of this repository
    (a source checkout); else the ``results/`` that ``python -m clr.notebooks`` put beside the
    notebooks (found from the working directory, a notebook's own folder, or the one above it);
    else the copy inside the installed package."""
    if os.environ.get("CLR_RESULTS"):
        return Path(os.environ["CLR_RESULTS"])
    package = Path(__file__).resolve().parents[1]
    repository = package.parent / "results"
    if repository.is_dir() and (package.parent / "pyproject.toml").is_file():
        return repository
    here = Path.cwd()
    for folder in (here, here.parent):
        if (folder / ".clr-notebooks.json").is_file() and (folder / "results").is_dir():
            return folder / "results"
    bundled = package / "_bundle" / "results"
    return bundled if bundled.is_dir() else repository


def read_results(csv_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A results CSV as columns of numbers, checked as the runner checks it on resume (header,
    a number in every cell, iterations increasing, possible values): a damaged file is a
    RunError naming the file and the line, never a silently wrong curve."""
    rows = []
    for number, line, row in parse_rows(Path(csv_path)):
        where = f"{csv_path}, line {number}"
        if rows and not row["iteration"] > rows[-1]["iteration"]:
            raise RunError(
                f"{where}: iteration {row['iteration']:,.0f} does not follow "
                f"{rows[-1]['iteration']:,.0f}; the evaluations must increase."
            )
        check_values(where, line, row)
        rows.append(row)
    return {c: np.array([r[c] for r in rows], dtype=float) for c in COLUMNS}


def load_comparison(
    folder: str | os.PathLike, policies: tuple[str, ...] = POLICIES
) -> dict[str, dict[str, np.ndarray]]:
    """Every ``POLICY.csv`` in ``folder`` (one seed's runs) for ``policies`` (by default
    Table 1's; ``protocol.ALL_POLICIES`` adds the ablations), in that order."""
    folder = Path(folder)
    return {
        p: read_results(folder / f"{p}.csv") for p in policies if (folder / f"{p}.csv").exists()
    }


def load_seeds(
    folder: str | os.PathLike, policies: tuple[str, ...] = POLICIES
) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """Every run of ``policies`` under ``folder/seedN/``: ``{policy_name: {seed: curves}}``,
    policies in the order given and seeds ascending."""
    folder = Path(folder)
    seeds = sorted(
        int(m.group(1))
        for d in folder.glob("seed*")
        if d.is_dir() and (m := re.fullmatch(r"seed(\d+)", d.name))
    )
    out: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    for policy_name in policies:
        runs = {s: load_comparison(folder / f"seed{s}", policies).get(policy_name) for s in seeds}
        runs = {s: r for s, r in runs.items() if r is not None}
        if runs:
            out[policy_name] = runs
    return out


def iterations_to_reach(results: dict[str, np.ndarray], accuracy: float) -> int | None:
    """The first evaluated iteration whose test accuracy is >= ``accuracy`` (None if never)."""
    hits = np.flatnonzero(results["test_accuracy"] >= accuracy)
    return int(results["iteration"][hits[0]]) if hits.size else None


def accuracy_at(results: dict[str, np.ndarray], iteration: float) -> float:
    """The test accuracy of the last evaluation at or before ``iteration``."""
    index = np.searchsorted(results["iteration"], iteration, side="right") - 1
    if index < 0:
        raise ValueError(f"No evaluation at or before iteration {iteration}.")
    return float(results["test_accuracy"][index])


def comparison_table(
    results: dict[str, dict[str, np.ndarray]], scale: float = 1.0, baseline: str = "fixed"
) -> list[dict[str, Any]]:
    """Table 1 for our runs beside the paper's: per policy, the iterations run (in the paper's
    units, i.e. divided by ``scale``), the final test accuracy, the iterations needed to reach
    the baseline's final accuracy and their ratio to the baseline's iterations, and, read the
    other way, the iterations the baseline needed to reach this policy's final accuracy (which
    says how much faster a policy was even when it ends below the baseline)."""
    if baseline not in results:
        raise ValueError(
            f"`results` must include the baseline {baseline!r}. Received: {sorted(results)}"
        )
    base = results[baseline]
    target, base_iterations = float(base["test_accuracy"][-1]), float(base["iteration"][-1])
    rows = []
    for policy_name, r in results.items():
        reach = iterations_to_reach(r, target)
        base_reach = iterations_to_reach(base, float(r["test_accuracy"][-1]))
        paper = PAPER_TABLE1.get(policy_name)
        rows.append(
            {
                "policy": policy_name,
                "iterations": round(r["iteration"][-1] / scale),
                "accuracy": 100 * float(r["test_accuracy"][-1]),
                "to_baseline": None if reach is None else round(reach / scale),
                "ratio": None if reach is None else reach / base_iterations,
                "baseline_to_same": None if base_reach is None else round(base_reach / scale),
                "paper_iterations": paper[0] if paper else None,
                "paper_accuracy": paper[1] if paper else None,
            }
        )
    return rows


def _or(value: Any, fmt: str, missing: str) -> str:
    return missing if value is None else format(value, fmt)


def format_table(rows: list[dict[str, Any]]) -> str:
    """The comparison as an aligned text table."""
    head = (
        f"{'policy':12s} {'iterations':>10s} {'accuracy %':>10s} {'to reach fixed':>15s} "
        f"{'ratio':>6s}"
        f" {'fixed reaches it at':>20s}   {'paper: iterations':>17s} {'accuracy %':>10s}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['policy']:12s} {r['iterations']:>10,} {r['accuracy']:>10.1f} "
            f"{_or(r['to_baseline'], ',', 'never'):>15s}"
            f" {_or(r['ratio'], '.2f', '-'):>6s} {_or(r['baseline_to_same'], ',', 'never'):>20s}"
            f"   {_or(r['paper_iterations'], ',', '-'):>17s} "
            f"{_or(r['paper_accuracy'], '.1f', '-'):>10s}"
        )
    return "\n".join(lines)


def split_complete(
    runs: dict[str, dict[int, dict[str, np.ndarray]]],
    scale: float = 1.0,
    optimizer_name: str = "sgd",
) -> tuple[dict[str, dict[int, dict[str, np.ndarray]]], dict[str, dict[int, int]]]:
    """``load_seeds``' runs split into the complete ones (policy -> seed -> curves; policies
    with none left out) and, per policy, the last evaluated iteration of each unfinished seed
    (runs of the protocol scaled by ``scale``, with ``optimizer_name``)."""
    complete: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    running: dict[str, dict[int, int]] = {}
    for policy_name, by_seed in runs.items():
        total = policy_schedule(policy_name, scale, optimizer_name)[1]
        for seed, r in by_seed.items():
            last = int(r["iteration"][-1])
            if last >= total:
                complete.setdefault(policy_name, {})[seed] = r
            else:
                running.setdefault(policy_name, {})[seed] = last
    return complete, running


def _mean_sd(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for a single value)."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), (float(array.std(ddof=1)) if array.size > 1 else None)


def seed_table(
    runs: dict[str, dict[int, dict[str, np.ndarray]]], scale: float = 1.0, baseline: str = "fixed"
) -> list[dict[str, Any]]:
    """Table 1 over seeds: per policy, its complete runs' final accuracy (mean and standard
    deviation), the iterations each seed needs to reach the baseline's *mean* final accuracy
    (mean and sd over the seeds that get there, and how many do), and the iterations the
    baseline's seeds need to reach this policy's mean final accuracy, read the other way, and
    the baseline's accuracy after as many iterations as this policy ran (the equal budget)."""
    if baseline not in runs:
        raise ValueError(f"`runs` must include the baseline {baseline!r}. Received: {sorted(runs)}")
    target, _ = _mean_sd([float(r["test_accuracy"][-1]) for r in runs[baseline].values()])
    rows = []
    for policy_name, by_seed in runs.items():
        finals = [float(r["test_accuracy"][-1]) for r in by_seed.values()]
        mean, sd = _mean_sd(finals)
        reach = [iterations_to_reach(r, target) for r in by_seed.values()]
        hits = [x / scale for x in reach if x is not None]
        back = [iterations_to_reach(r, mean) for r in runs[baseline].values()]
        back_hits = [x / scale for x in back if x is not None]
        to_mean, to_sd = _mean_sd(hits) if hits else (None, None)
        last = max(float(r["iteration"][-1]) for r in by_seed.values())
        same_budget = _mean_sd([accuracy_at(r, last) for r in runs[baseline].values()])
        paper = PAPER_TABLE1.get(policy_name)
        rows.append(
            {
                "policy": policy_name,
                "seeds": sorted(by_seed),
                "finals": {s: 100 * float(r["test_accuracy"][-1]) for s, r in by_seed.items()},
                "iterations": round(last / scale),
                "accuracy_mean": 100 * mean,
                "accuracy_sd": None if sd is None else 100 * sd,
                "reached": len(hits),
                "to_baseline_mean": to_mean,
                "to_baseline_sd": to_sd,
                "baseline_reached": len(back_hits),
                "baseline_to_same_mean": _mean_sd(back_hits)[0] if back_hits else None,
                "baseline_to_same_range": (min(back_hits), max(back_hits)) if back_hits else None,
                "baseline_same_budget_mean": 100 * same_budget[0],
                "baseline_same_budget_sd": None if same_budget[1] is None else 100 * same_budget[1],
                "paper_iterations": paper[0] if paper else None,
                "paper_accuracy": paper[1] if paper else None,
            }
        )
    return rows


def format_seed_table(rows: list[dict[str, Any]], markdown: bool = False) -> str:
    """The seed table as aligned text (or a markdown table): mean ± sd over seeds beside the
    paper's numbers."""
    head = (
        "policy",
        "seeds",
        "iterations",
        "accuracy % (mean ± sd)",
        "to reach fixed (seeds)",
        "fixed reaches it at",
        "paper",
    )
    cells = []
    for r in rows:
        acc = f"{r['accuracy_mean']:.1f}" + (
            "" if r["accuracy_sd"] is None else f" ± {r['accuracy_sd']:.1f}"
        )
        n = len(r["seeds"])
        if r["to_baseline_mean"] is None:
            reach = f"never (0/{n})"
        else:
            sd = "" if r["to_baseline_sd"] is None else f" ± {r['to_baseline_sd']:,.0f}"
            reach = f"{r['to_baseline_mean']:,.0f}{sd} ({r['reached']}/{n})"
        back = (
            "never" if r["baseline_to_same_mean"] is None else f"{r['baseline_to_same_mean']:,.0f}"
        )
        low_high = r.get("baseline_to_same_range")
        if low_high is not None and low_high[1] > low_high[0]:  # crossings scatter: the range
            back += f" ({low_high[0]:,.0f}-{low_high[1]:,.0f})"
        paper = (
            "-"
            if r["paper_iterations"] is None
            else f"{r['paper_iterations']:,}, {r['paper_accuracy']:.1f}"
        )
        cells.append((r["policy"], str(n), f"{r['iterations']:,}", acc, reach, back, paper))
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in (head, ("---",) * len(head), *cells)]
        return "\n".join(lines)
    widths = (12, 6, 10, 23, 25, 28, 17)

    def line(row: tuple[str, ...]) -> str:
        return f"{row[0]:{widths[0]}s}" + "".join(
            f" {c:>{w}s}" for c, w in zip(row[1:], widths[1:])
        )

    text = line(head)
    return "\n".join([text, "-" * len(text), *map(line, cells)])


def compare_finals(a: dict[int, float], b: dict[int, float]) -> TTest | None:
    """``mean(a) - mean(b)`` judged by Student's t: paired by seed where two or more seeds are
    shared (the seeds of this project's runs share initial weights and batch order across
    policies), Welch's test otherwise; None with fewer than two values on a side."""
    common = sorted(set(a) & set(b))
    if len(common) >= 2:
        return paired_t_test([a[s] for s in common], [b[s] for s in common])
    if len(a) >= 2 and len(b) >= 2:
        return welch_t_test(list(a.values()), list(b.values()))
    return None


def describe_test(test: TTest | None, unit: str = "points") -> str:
    """A test in words: the difference, its 95 % interval, the test, t, df and p."""
    if test is None:
        return "one seed on a side: no test"
    kind = (
        f"paired t-test over {test.n[0]} seeds"
        if test.kind == "paired"
        else f"Welch's t-test, {test.n[0]} and {test.n[1]} seeds"
    )
    p = "p < 0.001" if test.p_value < 0.001 else f"p = {test.p_value:.3f}"
    return (
        f"95 % CI {test.low:+.2f} to {test.high:+.2f} {unit}; {kind}, t({test.df:.3g}) = "
        f"{test.t:.2f}, {p}"
    )
