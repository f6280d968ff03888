"""The reproduction's report, written from the committed runs (numpy only): every number in its
prose comes from the CSVs, and its words follow from those numbers by rule, so that text and
data cannot drift apart and no sentence says more than its test.

The rules, once:

- A difference from the baseline is "resolved" only when its paired t-test's p-value stays under
  0.05 after Holm's correction over the whole family of tests against the baseline; resolved
  uncorrected but not corrected is said so.
- The paper's single pair of runs is set against ours with a 95 % *prediction* interval for one
  new run of each of our policies (:func:`stats.prediction_interval_two_runs`: the two runs not
  assumed to share a seed, t with the smaller n - 1 degrees of freedom): a confidence interval
  is for a mean and far too narrow for a single run.
- An interval that includes 0 is "not settled", with how large an effect it still allows.
- A line carried to distortion 0 is an extrapolation, and its assumptions are listed.
- Seeds needed are for 80 % power at the observed spread (:func:`stats.seeds_for_power`).
- Table 3's two seeds are read as written down before seed 1 ended: a statement stands only when
  both seeds give the same sign.

``scripts/cifar10_report.py --docs`` writes the page; notebook 03 shows the same sections.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import ablations, results, table3
from .protocol import ALL_POLICIES, PAPER_TABLE1, POLICIES
from .stats import holm, prediction_interval_two_runs, seeds_for_power

__all__ = [  # fmt: skip
    "Report",
    "build",
    "summary_section",
    "verdict_section",
    "ablations_section",
    "dose_response_section",
    "untested_section",
    "page",
]

ALPHA = 0.05
# The family tested against the baseline: Table 1's policies with seeds, and the paper's own
# exp_range (an ablation, but one the paper's headline rests on).
FAMILY = ("triangular2", "exp_range", "one_cycle", "exp_range_bounds")


class Report(dict):
    """What the sections are written from (a dict: the complete runs, the seed table, the
    ablation rows, the dose-response points and lines, Table 3's rows)."""


def build(root: str | os.PathLike | None = None) -> Report:
    """Read every complete run under ``root`` (the committed results by default)."""
    root = Path(root) if root is not None else results.results_dir()
    complete, running = results.split_complete(results.load_seeds(root / "paper", ALL_POLICIES))
    table1 = {p: runs for p, runs in complete.items() if p in POLICIES}
    points = ablations.data_quality_points(root, complete)
    return Report(
        root=root,
        complete=complete,
        running=running,
        table1=table1,
        rows=results.seed_table(table1),
        ablations=ablations.ablation_rows(complete),
        points=points,
        fit=ablations.fit_dose_response(points),
        by_seed=ablations.fit_dose_response(points, seed_terms=True),
        table3=table3.rows(root),
    )


def _finals(runs: dict[int, dict[str, np.ndarray]]) -> dict[int, float]:
    return {s: 100 * float(r["test_accuracy"][-1]) for s, r in runs.items()}


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _family(report: Report) -> dict[str, dict[str, Any]]:
    """Each test against the baseline: the shared seeds' differences, the paired test, and
    Holm's adjusted p-value over the family."""
    base = _finals(report["complete"]["fixed"])
    tests: dict[str, dict[str, Any]] = {}
    for name in FAMILY:
        if name not in report["complete"]:
            continue
        finals = _finals(report["complete"][name])
        shared = sorted(set(finals) & set(base))
        if len(shared) < 2:
            continue
        differences = [finals[s] - base[s] for s in shared]
        tests[name] = dict(
            seeds=shared,
            differences=differences,
            test=results.compare_finals(finals, base),
            mean=float(np.mean([finals[s] for s in shared])),
        )
    adjusted = holm([t["test"].p_value for t in tests.values()])
    for t, p in zip(tests.values(), adjusted):
        t["holm"] = p
    return tests


def _paper_check(report: Report, name: str) -> tuple[float, float, float, float, bool, int] | None:
    """The paper's single run of ``name`` against the baseline's, set against a 95 % prediction
    interval for one new pair of ours: (paper's accuracy, its difference, low, high, inside,
    df), or None where the paper has no such row."""
    paper = PAPER_TABLE1.get(name if name != "exp_range_bounds" else "exp_range")
    if paper is None:
        return None
    difference = paper[1] - PAPER_TABLE1["fixed"][1]
    ours = list(_finals(report["complete"][name]).values())
    base = list(_finals(report["complete"]["fixed"]).values())
    _, low, high = prediction_interval_two_runs(ours, base)
    return paper[1], difference, low, high, low <= difference <= high, min(len(ours), len(base)) - 1


def verdict_section(report: Report) -> str:
    """Table 1's verdict: each policy against the baseline, and the paper's run against ours."""
    rows = {r["policy"]: r for r in report["rows"]}
    base_row = rows["fixed"]
    base = _finals(report["complete"]["fixed"])
    family = _family(report)
    k = len(family)
    lines = [
        "Each policy's final accuracy against the fixed baseline's "
        f"({base_row['accuracy_mean']:.2f} % after 70,000 iterations, {len(base)} seeds), "
        "by a paired t-test over the seeds "
        f"both have; the {k} tests against the baseline are one family, and Holm's correction "
        'keeps its chance of any false "difference" at 5 %. Each of the paper\'s single runs is '
        "set against a 95 % prediction interval for one new run of ours.",
        "",
    ]
    for name, t in family.items():
        test = t["test"]
        n = len(t["seeds"])
        r = rows.get(name)
        label = name if name != "exp_range_bounds" else "exp_range_bounds (the paper's exp_range)"
        last = max(int(run["iteration"][-1]) for run in report["complete"][name].values())
        iterations = f" after {last:,} iterations"
        if t["holm"] < ALPHA:
            words = "The seeds resolve it, also after the correction."
        elif test.p_value < ALPHA:
            words = (
                f"Uncorrected it would count as resolved; corrected for the {k} tests "
                "against the baseline it does not."
            )
        else:
            words = "The seeds cannot tell it from zero."
        text = (
            f"- **{label}** ends at {t['mean']:.2f} %{iterations} ({n} seeds): "
            f"{test.difference:+.2f} points from the baseline (95 % CI {test.low:+.2f} to "
            f"{test.high:+.2f}; paired t({test.df:.0f}) = {test.t:.2f}, {_p(test.p_value)}, "
            f"Holm-adjusted {_p(t['holm'])}). {words}"
        )
        check = _paper_check(report, name)
        if check is not None:
            paper, paper_difference, low, high, inside, df = check
            text += (
                f" The paper, one run per row, has {paper_difference:+.1f} ({paper:.1f} % "
                f"against 81.4 %). One new run of each of ours would differ by between "
                f"{low:+.2f} and {high:+.2f} points 95 % of the time (a prediction interval from "
                f"our seeds' spreads, t with {df} df, the two runs not assumed to share a seed): "
                f"the paper's {paper_difference:+.1f} lies {'inside' if inside else 'outside'} it"
                + (
                    ", so a single pair of runs of a set-up like ours could show it: our seeds "
                    "do not rule out chance."
                    if inside
                    else ", so a single pair of runs of a set-up like ours would rarely show it."
                )
            )
        if r and r["to_baseline_mean"] is not None:
            ratio = r["to_baseline_mean"] / base_row["iterations"]
            text += (
                f" It reaches the baseline's final accuracy in {r['reached']} of {n} seeds, "
                f"at {r['to_baseline_mean']:,.0f} iterations on average ({ratio:.2f} of the "
                "baseline's)."
            )
        elif r:
            text += " None of its seeds reaches the baseline's final accuracy."
        if r and r["iterations"] < base_row["iterations"]:
            sd = r["baseline_same_budget_sd"]
            text += (
                f" On the same budget of {r['iterations']:,} iterations the baseline, its rate "
                f"not dropped yet, had {r['baseline_same_budget_mean']:.2f}"
                f"{'' if sd is None else f' ± {sd:.2f}'} %."
            )
        if r and r["baseline_to_same_mean"] is not None:
            share = r["iterations"] / r["baseline_to_same_mean"]
            how = (
                f"{name} gets there in {share:.2f} of them"
                if share < 1
                else f"{name} needs {share:.2f} times as many"
            )
            text += (
                f" Read the other way, the baseline first reaches {r['accuracy_mean']:.2f} % "
                f"at {r['baseline_to_same_mean']:,.0f} iterations: {how}."
            )
        lines.append(text)
    for name, r in rows.items():
        if name == "fixed" or name in family or len(r["seeds"]) != 1:
            continue
        paper = ""
        if r["paper_accuracy"] is not None:
            gap = r["paper_accuracy"] - r["accuracy_mean"]
            paper = f" (the paper: {r['paper_accuracy']:.1f} %, {gap:+.2f} points from ours)"
        lines.append(
            f"- **{name}**, one seed: {r['accuracy_mean']:.2f} % after {r['iterations']:,} "
            f"iterations{paper}. No test with one seed."
        )
    return "\n".join(lines)


def _not_settled(test: Any) -> str:
    reach = max(abs(test.low), abs(test.high))
    return (
        f"The interval includes 0 and allows differences up to {reach:.1f} points either way: "
        "not settled."
    )


def ablations_section(report: Report) -> str:
    """The ablation table and what each comparison allows, with the seeds an 80 %-power test
    would need where it is not settled."""
    rows = report["ablations"]
    lines = [ablations.format_ablations(rows), ""]
    for r in rows:
        test = r["test"]
        n = len(r["shared_seeds"])
        head = (
            f"- **{r['ablation']}** against {r['reference']} ({n} shared seeds): "
            f"{r['shared_difference']:+.2f} points"
        )
        if test is None:
            lines.append(head + "; one shared seed, no test.")
            continue
        head += f" (95 % CI {test.low:+.2f} to {test.high:+.2f}, {_p(test.p_value)})."
        if test.low > 0 or test.high < 0:
            lines.append(head + " The interval excludes 0.")
            continue
        finals = _finals(report["complete"][r["ablation"]])
        reference = _finals(report["complete"][r["reference"]])
        differences = [finals[s] - reference[s] for s in r["shared_seeds"]]
        sd = float(np.std(differences, ddof=1)) if len(differences) > 1 else None
        text = head + " " + _not_settled(test)
        if sd and abs(r["shared_difference"]) > 0:
            need = seeds_for_power(r["shared_difference"], sd)
            text += (
                f" To find a difference of {abs(r['shared_difference']):.2f} points with 80 % "
                f"power at these seeds' spread (sd {sd:.2f}) would take about {need} seeds"
                + (
                    f"; an sd from {n} seeds is itself uncertain, so that count is a rough guide."
                    if n <= 3
                    else "."
                )
            )
        lines.append(text)
    lines += [
        "",
        "Seeds for 80 % power: the smallest n with t(0.975, n - 1) + t(0.80, n - 1) <= "
        "|effect| · sqrt(n) / sd, the paired form of n = ((z(0.975) + z(0.80)) · sd / effect)^2 "
        "with Student's t for few seeds (`clr.cifar10.stats.seeds_for_power`).",
    ]
    return "\n".join(lines)


def dose_response_section(report: Report) -> str:
    """The data-quality runs: what they show directly, and the line carried to the original
    data, named as the extrapolation it is, with its assumptions."""
    points, fit, by_seed = report["points"], report["fit"], report["by_seed"]
    lines = []
    for p in points:
        lines.append(
            f"- {p['label']}: distortion {p['mse']:.0f} (PSNR {p['psnr_db']:.1f} dB), seeds "
            f"{', '.join(map(str, p['seeds']))}: fixed {np.mean(p['fixed']):.2f} %, "
            f"triangular2 {np.mean(p['triangular2']):.2f} %, gap "
            + ", ".join(f"{g:+.2f}" for g in p["gaps"])
        )
    seeds = sorted({s for p in points for s in p["seeds"]})
    narrowing = []
    for seed in seeds:
        gaps = [g for p in sorted(points, key=lambda q: q["mse"])
                for s, g in zip(p["seeds"], p["gaps"]) if s == seed]  # fmt: skip
        if len(gaps) >= 2:
            narrowing.append(all(b > a for a, b in zip(gaps, gaps[1:])))
    if narrowing:
        lines.append("")
        if all(narrowing):
            lines.append(
                f"**What the runs show:** on each of the {len(narrowing)} seeds run on every "
                "copy, the gap (triangular2 minus fixed) narrows as the data gets worse."
            )
        else:
            lines.append(
                "**What the runs show:** the gap does not move the same way on every seed as "
                "the data gets worse."
            )
    for line in (fit, by_seed):
        if line is not None:
            lines.append("- " + ablations.describe_dose_response(line))
    if fit is not None:
        lines += [
            "",
            "**Carried to the original data, the line is an extrapolation**, and says no more "
            "than its assumptions allow:",
            f"- a straight line through {len(points)} distortion levels "
            f"({min(p['mse'] for p in points):.0f} to {max(p['mse'] for p in points):.0f}), "
            "carried outside them to 0;",
            "- our copy's distortion (65) is the data README's \"about 30 dB\", not a "
            "measurement: no original is at hand to measure it against;",
            "- each re-encoding's distortion is added to it as if the two were independent;",
            f"- {len(seeds)} seeds.",
            "So the runs say how the gap moves with distortion in the range measured, not what "
            "the original data would give; they do not rule the data's quality out.",
        ]
    return "\n".join(lines)


def summary_section(report: Report) -> str:
    """The page in a few lines, each as strong as its section's rule allows and no stronger."""
    lines = []
    for name, t in _family(report).items():
        resolved = "resolved" if t["holm"] < ALPHA else "not resolved"
        text = (
            f"- **{name}** ends {t['test'].difference:+.2f} points from the fixed baseline "
            f"({len(t['seeds'])} seeds), {resolved} by the seeds after Holm's correction"
        )
        check = _paper_check(report, name)
        if check is not None:
            _, difference, _, _, inside, _ = check
            text += (
                f"; the paper's {difference:+.1f} lies {'inside' if inside else 'outside'} the "
                "95 % prediction interval for one pair of our runs"
                + (" (chance not ruled out)" if inside else "")
            )
        lines.append(text + ".")
    for r in report["ablations"]:
        test = r["test"]
        settled = test is not None and (test.low > 0 or test.high < 0)
        lines.append(
            f"- Ablation **{r['ablation']}** against {r['reference']}: "
            f"{r['shared_difference']:+.2f} points over {len(r['shared_seeds'])} seeds, "
            + ("the interval excludes 0." if settled else "not settled.")
        )
    fit = report.get("fit")
    if fit is not None and fit["slope_p"] is not None:
        moves = "moves" if fit["slope_p"] < ALPHA else "does not move detectably"
        lines.append(
            f"- The data's quality: the gap {moves} with the copies' distortion "
            f"(slope {_p(fit['slope_p'])}) over the range measured; what the original data "
            "would give is an extrapolation, so the data's quality is not ruled out."
        )
    readings: dict[str, dict[str, str]] = {}
    for optimizer, policy, fixed, cyclic, complete in table3.comparisons(report["table3"]):
        readings.setdefault(policy, {})[optimizer] = (
            table3.reading(fixed, cyclic)[1] if complete else "not every row complete yet"
        )
    for policy, label, rule in (
        ("triangular", "25,000", "by the rule written before seed 1 ended"),
        (
            "triangular_70k",
            "70,000",
            "by the same rule (this comparison written out after Adam's seed 1 ended)",
        ),
    ):
        if readings.get(policy):
            lines.append(
                f"- Table 3, {policy} at {label} against fixed at 70,000, {rule}: "
                + "; ".join(f"{o}: {w}" for o, w in readings[policy].items())
                + "."
            )
    return "\n".join(lines)


def untested_section() -> str:
    """What differs from the paper's set-up and was not tested: a list, not a proof that it is
    complete."""
    return "\n".join(
        [
            "Differences from the paper's set-up that no run here tests (what we know of; the "
            "list may not be complete):",
            "- Caffe on a GPU against Keras on TensorFlow on a CPU: rounding, the random draws "
            "(initial weights), the order in which the images are read;",
            "- the original CIFAR-10 against our JPEG copy (tested only through worse copies, "
            "above, and an extrapolation);",
            "- settings the paper leaves open: exp_range's bounds for Table 1, AdaDelta's rho "
            "and epsilon, RMSprop's decay (we take Caffe's examples');",
            "- when the paper read its 25,000-iteration numbers (we read the last iteration, "
            "and each cyclic row's last trough beside it);",
            "- one run per row in the paper, against our seeds.",
        ]
    )


def page(report: Report) -> str:
    """The whole reproduction page as markdown (``docs/reproduction.md``)."""
    fixed = report["rows"][0] if report["rows"] else None
    seeds = ", ".join(str(s) for s in fixed["seeds"]) if fixed else "none"
    in_progress = "; ".join(
        f"{p}: " + ", ".join(f"seed {s} at {i:,}" for s, i in seeds_.items())
        for p, seeds_ in report["running"].items()
    )
    parts = [
        "# The CIFAR-10 reproduction",
        "",
        "<!-- Written by `python scripts/cifar10_report.py --docs docs/reproduction.md` from the "
        "committed runs in results/: do not edit by hand. -->",
        "",
        "Smith's Table 1 (and Table 3) on Caffe's `cifar10_full`, trained with the package's "
        "own Keras API in Caffe's exact set-up (see the user guide's CIFAR-10 page), at paper "
        f"scale, over seeds (the fixed baseline's: {seeds}). Every number on this page is computed "
        "from the committed CSVs by `clr.cifar10.report`, and its words follow from the numbers "
        "by the rules in that module's docstring. Only complete runs count"
        + (f"; in progress: {in_progress}." if in_progress else "."),
        "",
        "## In short",
        "",
        summary_section(report),
        "",
        "## Table 1 over seeds",
        "",
        results.format_seed_table(report["rows"], markdown=True),
        "",
        "\"to reach fixed\": the iterations a policy's seeds need to reach the fixed baseline's "
        'mean final accuracy (how many seeds do); "fixed reaches it at": the iteration at which '
        "the baseline's seeds first reach this policy's mean final accuracy.",
        "",
        "![Test accuracy over seeds (mean line, band from the lowest to the highest seed) for "
        "every complete paper-preset run, the paper's Table 1 as stars, each policy's learning "
        "rate underneath](img/cifar10_paper_seeds.png)",
        "",
        "## The verdict",
        "",
        verdict_section(report),
        "",
        "## The ablations: what each change does",
        "",
        ablations_section(report),
        "",
        "## The data's quality",
        "",
        dose_response_section(report),
        "",
        "![Each seed's gap, triangular2 minus fixed, against each copy's distortion from the "
        "original, the two lines back to the original with their intervals, the paper's "
        "tie](img/cifar10_dose_response.png)",
        "",
        "## The paper's Table 3",
        "",
        "Other optimizers on the same network, on the Ray grid. A cyclic row is also read at its "
        "last trough, beside fixed at that same iteration. **How the second seed is read** "
        "(written on 2026-12-05, before any seed-1 run of Table 3 ended): each row shows every "
        "seed's accuracy and their mean at the run's last iteration (25,000 for triangular, read "
        "from `triangular_70k` for Adam and RMSprop; 70,000 for fixed and `triangular_70k`) and "
        "at its last trough; each optimizer's comparisons are per seed; with two seeds no test "
        "is run, and a statement stands only where both seeds give the same sign; nothing else "
        "is read from these runs. (The comparison of `triangular_70k` with fixed at 70,000, "
        "the paper's own for Adam and RMSprop, was first written out here on 2026-12-06, after "
        "Adam's seed 1 had ended and before RMSprop's `triangular_70k` seed 1 had; it follows "
        "the same rule.)",
        "",
        table3.section(report["table3"]),
        "",
        "## What is not tested",
        "",
        untested_section(),
        "",
    ]
    return "\n".join(parts)
