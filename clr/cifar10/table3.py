"""The paper's Table 3 (the CIFAR-10 network with other optimizers) beside our runs on the Ray
grid, and how its seeds are read (numpy only).

The reading rule was written down on 2026-12-05, before any seed-1 run of Table 3 ended: each
row shows every seed's accuracy and their mean; each optimizer's comparisons are made seed by
seed; with two seeds no test is run, and a statement stands only where every seed gives the same
sign (:func:`reading`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .protocol import OPTIMIZERS, policy_schedule
from .results import load_seeds, split_complete

__all__ = [
    "PAPER_TABLE3",
    "rows",
    "format_table",
    "by_optimizer",
    "comparisons",
    "reading",
    "section",
]

# Smith 2017, Table 3 (the CIFAR-10 network with other optimizers): optimizer -> policy ->
# (iterations, accuracy %). fixed runs at the optimizer's lower bound.
PAPER_TABLE3 = {
    "nesterov": {"fixed": (70_000, 82.1), "triangular": (25_000, 81.3)},
    "adam": {
        "fixed": (70_000, 81.4),
        "triangular": (25_000, 79.8),
        "triangular_70k": (70_000, 81.1),
    },
    "rmsprop": {
        "fixed": (70_000, 75.2),
        "triangular": (25_000, 72.8),
        "triangular_70k": (70_000, 75.1),
    },
    "adagrad": {"fixed": (70_000, 74.6), "triangular": (25_000, 76.0)},
    "adadelta": {"fixed": (70_000, 67.3), "triangular": (25_000, 67.3)},
}


def _finals(runs: dict[int, dict[str, np.ndarray]]) -> dict[int, float]:
    return {seed: 100 * float(r["test_accuracy"][-1]) for seed, r in runs.items()}


def rows(root: str | os.PathLike) -> list[dict[str, Any]]:
    """The paper's Table 3 beside ours: per optimizer and row, our final accuracy (seed by
    seed) where the run is complete, or how far it got; the triangular row at 25,000 of Adam
    and RMSprop (which the paper also ran for 70,000) read from their 70,000-iteration run,
    the same run up to there, when no 25,000-iteration run of their own exists.

    A triangular row ends where its iteration count falls in the cycle: 25,000 is 12.5 step
    sizes, halfway up a rise. Its ``trough`` is therefore read too: the last evaluated
    iteration up to its end where the rate is at its lower bound (where the paper says to stop),
    ours there and fixed's at the same iteration, seed by seed (:func:`_at_last_trough`)."""
    root = Path(root)
    out = []
    for optimizer_name, paper_rows in PAPER_TABLE3.items():
        runs = load_seeds(
            root / "paper" / optimizer_name, ("fixed", "triangular", "triangular_70k")
        )
        complete, running = split_complete(runs, optimizer_name=optimizer_name)
        for policy_name, (iterations, accuracy) in paper_rows.items():
            source = policy_name
            if (
                policy_name == "triangular"
                and "triangular_70k" in paper_rows
                and "triangular" not in runs
            ):
                source = "triangular_70k"
            ours, progress = None, running.get(source)
            done = complete.get(source) or {}
            if source == "triangular_70k" and policy_name == "triangular":
                done = {
                    s: r
                    for s, r in (runs.get(source) or {}).items()
                    if r["iteration"][-1] >= 25_000
                }
                ours = {
                    s: 100 * float(r["test_accuracy"][r["iteration"] == 25_000][0])
                    for s, r in done.items()
                } or None
                # a seed past 25,000 has this row complete, however far its 70k run has got
                progress = {s: i for s, i in (progress or {}).items() if s not in done} or None
            elif done:
                ours = _finals(done)
            schedule, total = policy_schedule(policy_name, 1.0, optimizer_name)[:2]
            trough = None
            if policy_name != "fixed" and ours:
                trough = _at_last_trough(schedule, total, done, runs.get("fixed") or {})
            out.append(
                dict(
                    optimizer=optimizer_name,
                    policy=policy_name,
                    bounds=(OPTIMIZERS[optimizer_name].base_lr, OPTIMIZERS[optimizer_name].max_lr),
                    iterations=total,
                    ours=ours,
                    progress=progress,
                    trough=trough,
                    paper=(iterations, accuracy),
                )
            )
    return out


def _at_last_trough(
    schedule: Any,
    total: int,
    runs: dict[int, dict[str, np.ndarray]],
    fixed: dict[int, dict[str, np.ndarray]],
) -> dict[str, Any] | None:
    """Where a cyclic run last sat at its lower bound up to ``total`` iterations: that
    iteration, our accuracy there per seed, and fixed's at the same iteration on the seeds that
    have evaluated it (percent). None when no evaluation after the start falls on a trough."""
    seeds = sorted(runs)
    iterations = runs[seeds[0]]["iteration"]
    iterations = iterations[(iterations > 0) & (iterations <= total)]
    lr = np.asarray(schedule(iterations), dtype=float)
    at_low = iterations[np.isclose(lr, schedule.bounds()[0], rtol=1e-9, atol=0.0)]
    if at_low.size == 0:
        return None
    it = int(at_low[-1])

    def at(curves: dict[str, np.ndarray]) -> float | None:
        hit = curves["test_accuracy"][curves["iteration"] == it]
        return 100 * float(hit[0]) if hit.size else None

    ours = {s: at(runs[s]) for s in seeds}
    # fixed on the same seeds only: the comparison is seed by seed
    fixed_there = {s: a for s, r in fixed.items() if s in runs and (a := at(r)) is not None}
    return dict(
        iteration=it,
        ours={s: a for s, a in ours.items() if a is not None},
        fixed=fixed_there,
    )


def _mean_each(by_seed: dict[int, float]) -> str:
    """One seed's value, or the seeds' mean and each seed's in seed order: "73.5: 74.6, 72.4"."""
    values = [by_seed[s] for s in sorted(by_seed)]
    each = ", ".join(f"{v:.1f}" for v in values)
    return each if len(values) == 1 else f"{np.mean(values):.1f}: {each}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """Table 3 beside ours as markdown, with each cyclic row also read at its last trough
    (the iteration, ours there, fixed there), every seed shown beside the mean in both."""
    lines = [
        "| optimizer | bounds | policy | iterations | ours %: mean: each seed (seeds) "
        "| at the last trough: ours % (fixed %), mean: each seed | paper % |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        running = ", ".join(f"seed {s} at {i:,}" for s, i in (r["progress"] or {}).items())
        if r["ours"]:
            ours = f"{_mean_each(r['ours'])} ({', '.join(str(s) for s in sorted(r['ours']))})"
            if running:
                ours += "; " + running
        elif running:
            ours = "running: " + running
        else:
            ours = "not run yet"
        trough = "-"
        if r.get("trough") and r["trough"]["ours"]:
            t = r["trough"]
            trough = f"{_mean_each(t['ours'])} at {t['iteration']:,}"
            if t["fixed"]:
                trough += f" ({_mean_each(t['fixed'])})"
        low, high = r["bounds"]
        lines.append(
            f"| {r['optimizer']} | {low:g}-{high:g} | {r['policy']} | {r['iterations']:,} | "
            f"{ours} | {trough} | {r['paper'][1]:.1f} |"
        )
    return "\n".join(lines)


def _sign(value: float) -> int:
    return 1 if value > 0 else -1 if value < 0 else 0


def _shared_sign(differences: dict[int, float]) -> int | None:
    """The sign every seed's difference has, or None where they disagree."""
    signs = {_sign(d) for d in differences.values()}
    return signs.pop() if len(signs) == 1 else None


def by_optimizer(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Table 3's rows by optimizer, then by policy."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        out.setdefault(r["optimizer"], {})[r["policy"]] = r
    return out


def comparisons(
    rows: list[dict[str, Any]],
) -> Iterator[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None, bool]]:
    """Each (optimizer, cyclic policy, fixed row, cyclic row, both complete) that Table 3's rule
    reads: triangular for every optimizer, triangular_70k where the paper has it."""
    for optimizer, policies in by_optimizer(rows).items():
        fixed = policies.get("fixed")
        for policy in ("triangular", "triangular_70k"):
            cyclic = policies.get(policy)
            if policy == "triangular_70k" and not cyclic:
                continue  # only Adam and RMSprop have this row
            complete = bool(fixed and cyclic and fixed["ours"] and cyclic["ours"])
            yield optimizer, policy, fixed, cyclic, complete


def reading(fixed: dict[str, Any], tri: dict[str, Any]) -> tuple[dict[int, float], str]:
    """Each shared seed's triangular minus fixed, and what they say by the pre-registered rule:
    a statement only where every seed (two or more) gives the same sign."""
    seeds = sorted(set(fixed["ours"]) & set(tri["ours"]))
    at_end = {s: tri["ours"][s] - fixed["ours"][s] for s in seeds}
    if len(seeds) < 2:
        return at_end, "one seed so far, no reading yet"
    sign = _shared_sign(at_end)
    if sign is not None:
        where = {-1: "under", 1: "over", 0: "level with"}[sign]
        return at_end, f"{where} fixed on every seed"
    return at_end, "the seeds disagree, not settled"


def section(rows: list[dict[str, Any]]) -> str:
    """Table 3 with every seed and their mean, read as written down before seed 1 ended: each
    cyclic row (triangular at 25,000; Adam's and RMSprop's triangular_70k at 70,000) against
    fixed at 70,000 and at its last trough, seed by seed."""
    lines = [format_table(rows), ""]
    for optimizer, policy, fixed, cyclic, complete in comparisons(rows):
        if complete:
            lines.append(_bullet(optimizer, policy, fixed, cyclic))
        else:
            lines.append(f"- **{optimizer}**, {policy}: not every row is complete yet.")
    return "\n".join(lines)


def _bullet(optimizer: str, policy: str, fixed: dict[str, Any], cyclic: dict[str, Any]) -> str:
    at_end, words = reading(fixed, cyclic)
    text = f"- **{optimizer}**, {policy} at {cyclic['iterations']:,} minus fixed at 70,000: "
    text += ", ".join(f"seed {s} {d:+.1f}" for s, d in at_end.items())
    text += " (one seed so far: no reading yet)." if len(at_end) < 2 else f": {words}."
    trough = cyclic.get("trough")
    if trough and trough["ours"] and trough["fixed"]:
        shared = sorted(set(trough["ours"]) & set(trough["fixed"]))
        leads = {s: trough["ours"][s] - trough["fixed"][s] for s in shared}
        text += (
            f" At the last trough ({trough['iteration']:,}), {policy} minus fixed there: "
            + ", ".join(f"seed {s} {d:+.1f}" for s, d in leads.items())
        )
        sign = _shared_sign(leads)
        if len(shared) < 2:
            text += "."
        elif sign is not None:
            where = {-1: "behind", 1: "ahead of", 0: "level with"}[sign]
            text += f"; {where} fixed there on every seed."
        else:
            text += "; the seeds disagree."
    return text
