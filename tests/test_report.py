"""The reproduction page (clr.cifar10.report): the committed page is what the committed runs
give, and its words follow the rules in the module's docstring, checked on made-up runs whose
tests come out on each side of each rule."""

import io
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

from clr.cifar10 import ablations, report, results, table3
from clr.cifar10.stats import holm, paired_t_test

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reproduction.md"


def _committed_results(tmp_path: Path) -> Path:
    """results/ as committed: while a background run writes into the checkout's results/, the
    page is checked against the last commit's runs (what CI's clean clone has)."""
    status = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "results"],
        capture_output=True,
        text=True,
    )
    if status.returncode != 0 or not status.stdout.strip():
        return ROOT / "results"  # not a git checkout, or nothing running: the files as they are
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD", "results"], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "results"


def test_the_committed_page_is_what_the_committed_runs_give(tmp_path):
    expected = report.page(report.build(_committed_results(tmp_path)))
    assert PAGE.read_text() == expected, (
        "docs/reproduction.md is out of date with the committed results/: "
        "scripts/commit_results.sh (runs and page together), or "
        "python scripts/cifar10_report.py --docs docs/reproduction.md"
    )


def _run(final: float, total: int) -> dict[str, np.ndarray]:
    """A made-up curve: evaluated every 1,000 iterations, rising to ``final`` %."""
    iteration = np.arange(1000, total + 1, 1000, dtype=float)
    accuracy = final / 100 * (1 - np.exp(-iteration / (total / 5)))
    accuracy[-1] = final / 100
    return {"iteration": iteration, "test_accuracy": accuracy}


FIXED = [80.0, 80.4, 79.6]
MADE_UP = {
    "fixed": (FIXED, 70_000),
    # about -1 point on every seed: resolved, also after Holm's correction
    "triangular2": ([79.0, 79.35, 78.65], 25_000),
    # +0.6 ± 0.2: p about 0.035 alone, about 0.07 after the correction over three tests
    "one_cycle": ([80.6, 80.8, 80.4], 25_000),
    # no difference
    "exp_range": ([80.3, 80.1, 79.5], 42_000),
}


@pytest.fixture
def made_up() -> report.Report:
    complete = {
        name: {seed: _run(final, total) for seed, final in enumerate(finals)}
        for name, (finals, total) in MADE_UP.items()
    }
    return report.Report(
        complete=complete,
        running={},
        table1=complete,
        rows=results.seed_table(complete),
        ablations=ablations.ablation_rows(complete),
        table3=[],
    )


def _line(section: str, name: str) -> str:
    return next(line for line in section.splitlines() if line.startswith(f"- **{name}**"))


def test_the_verdict_says_resolved_only_after_holms_correction(made_up):
    p = {n: paired_t_test(MADE_UP[n][0], FIXED).p_value for n in report.FAMILY if n in MADE_UP}
    adjusted = dict(zip(p, holm(list(p.values()))))
    assert adjusted["triangular2"] < 0.05 and p["one_cycle"] < 0.05 < adjusted["one_cycle"]
    text = report.verdict_section(made_up)
    assert "3 tests against the baseline are one family" in text
    assert "The seeds resolve it, also after the correction." in _line(text, "triangular2")
    assert "corrected for the 3 tests against the baseline it does not" in _line(text, "one_cycle")
    assert "The seeds cannot tell it from zero." in _line(text, "exp_range")
    assert f"Holm-adjusted p = {adjusted['one_cycle']:.3f}" in _line(text, "one_cycle")


def test_the_paper_is_set_against_a_prediction_interval():
    # The runs are not paired here: each policy's own spread counts. With fixed and triangular2
    # both tight, the paper's tie (81.4 against 81.4) lies outside where one new pair of runs
    # of ours would land; exp_range's wide spread leaves room for the paper's +0.8.
    tight = {
        "fixed": ([80.0, 80.05, 79.95], 70_000),
        "triangular2": ([79.0, 79.05, 78.95], 25_000),
        "exp_range": MADE_UP["exp_range"],
    }
    complete = {
        name: {seed: _run(final, total) for seed, final in enumerate(finals)}
        for name, (finals, total) in tight.items()
    }
    made_up = report.Report(complete=complete, rows=results.seed_table(complete))
    text = report.verdict_section(made_up)
    assert "the paper's +0.0 lies outside it" in _line(text, "triangular2")
    assert "would rarely show it" in _line(text, "triangular2")
    # exp_range: the paper's +0.8 lies inside our wide interval, which does not rule out chance
    assert "lies inside it" in _line(text, "exp_range")
    assert "our seeds do not rule out chance" in _line(text, "exp_range")


def test_the_summary_says_what_the_verdict_says(made_up):
    made_up.update(ablations=[], table3=[])
    verdict, summary = report.verdict_section(made_up), report.summary_section(made_up)
    for name in ("triangular2", "one_cycle", "exp_range"):
        resolved = "The seeds resolve it" in _line(verdict, name)
        assert (", resolved by the seeds" in _line(summary, name)) == resolved, name
        assert ("not resolved" in _line(summary, name)) != resolved, name


def test_a_policy_the_paper_did_not_run_is_not_set_against_it(made_up):
    assert "The paper" not in _line(report.verdict_section(made_up), "one_cycle")


def test_the_ablations_say_not_settled_and_how_many_seeds_would_settle_it():
    complete = {
        "one_cycle": {s: _run(f, 25_000) for s, f in enumerate([79.0, 79.6, 79.3])},
        "one_cycle_006": {s: _run(f, 25_000) for s, f in enumerate([79.9, 79.2, 79.7])},
    }
    made_up = report.Report(complete=complete, ablations=ablations.ablation_rows(complete))
    text = report.ablations_section(made_up)
    line = _line(text, "one_cycle_006")
    assert "The interval includes 0" in line and "not settled" in line
    assert "would take about" in line and "a rough guide" in line


def test_table3_is_read_as_pre_registered():
    def row(policy, ours):
        return dict(
            optimizer="adam",
            policy=policy,
            bounds=(0.0005, 0.002),
            iterations=70_000 if policy == "fixed" else 25_000,
            ours=ours,
            progress=None,
            trough=None,
            paper=(70_000, 81.4),
        )

    def read(fixed, triangular):
        return _line(table3.section([row("fixed", fixed), row("triangular", triangular)]), "adam")

    assert "one seed so far: no reading yet" in read({0: 80.0}, {0: 75.0})
    assert "under fixed on every seed" in read({0: 80.0, 1: 79.0}, {0: 75.0, 1: 78.0})
    assert "the seeds disagree, not settled" in read({0: 80.0, 1: 79.0}, {0: 75.0, 1: 80.0})
    assert "not every row is complete yet" in read({0: 80.0}, None)


def test_table3_reads_triangular_70k_against_fixed_by_the_same_rule(made_up):
    def row(policy, ours, iterations):
        return dict(
            optimizer="adam",
            policy=policy,
            bounds=(0.0005, 0.002),
            iterations=iterations,
            ours=ours,
            progress=None,
            trough=None,
            paper=(iterations, 81.0),
        )

    rows = [
        row("fixed", {0: 80.0, 1: 79.0}, 70_000),
        row("triangular", {0: 81.0, 1: 80.0}, 25_000),
        row("triangular_70k", {0: 75.0, 1: 78.0}, 70_000),
    ]
    bullets = [line for line in table3.section(rows).splitlines() if line.startswith("- **adam**")]
    assert bullets == [
        "- **adam**, triangular at 25,000 minus fixed at 70,000: seed 0 +1.0, seed 1 +1.0: "
        "over fixed on every seed.",
        "- **adam**, triangular_70k at 70,000 minus fixed at 70,000: seed 0 -5.0, seed 1 -1.0: "
        "under fixed on every seed.",
    ]
    summary = report.summary_section(report.Report({**made_up, "table3": rows}))
    assert (
        "- Table 3, triangular at 25,000 against fixed at 70,000, by the rule written before "
        "seed 1 ended: adam: over fixed on every seed." in summary
    )
    assert (
        "- Table 3, triangular_70k at 70,000 against fixed at 70,000, by the same rule "
        "(this comparison written out after Adam's seed 1 ended): adam: under fixed on every "
        "seed." in summary
    )
