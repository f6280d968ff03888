"""The ablations' analysis on curves with known answers: each ablation against its reference,
the dose-response line and its value at the original data and its figure, Table 3 beside ours
(numpy and matplotlib only)."""

import json

import numpy as np
import pytest

from clr.cifar10 import ablations, table3


def curve(final, last=25_000):
    it = np.arange(0, last + 1, 1000)
    return {"iteration": it, "test_accuracy": np.linspace(0.1, final, it.size)}


def test_each_ablation_against_its_reference():
    complete = {
        "triangular2": {0: curve(0.787), 1: curve(0.787), 2: curve(0.791)},
        "fixed_25k": {0: curve(0.788), 1: curve(0.790)},
        "exp_range": {0: curve(0.761, 42_000)},
    }
    rows = {r["ablation"]: r for r in ablations.ablation_rows(complete)}
    assert set(rows) == {"fixed_25k"}  # exp_range_bounds has no runs: no row
    r = rows["fixed_25k"]
    assert r["reference"] == "triangular2" and r["shared_seeds"] == [0, 1]
    assert r["shared_difference"] == pytest.approx(0.2)  # (+0.1, +0.3) points
    assert r["test"].kind == "paired" and r["test"].n == (2, 2)
    assert r["test"].difference == pytest.approx(0.2)
    text = ablations.format_ablations([r])
    assert "| fixed_25k |" in text and "| 78.90 ± 0.14 (2) | triangular2 |" in text
    assert "+0.20 (2)" in text and "paired t-test over 2 seeds" in text


def _write_copies(root, qualities):
    record = {"copies": {str(q): {"against_source": {"mse": mse}} for q, mse in qualities.items()}}
    (root / "ablations").mkdir(parents=True)
    (root / "ablations" / "jpeg_copies.json").write_text(json.dumps(record))


def _csv(path, final, last):
    path.parent.mkdir(parents=True, exist_ok=True)
    c = curve(final, last)
    rows = "".join(
        f"{i},0.001,1.0,1.0,{a},1.0\n" for i, a in zip(c["iteration"], c["test_accuracy"])
    )
    path.write_text("iteration,lr,train_loss,test_loss,test_accuracy,elapsed_s\n" + rows)


def test_dose_response_points_and_the_line_back_to_the_original(tmp_path):
    _write_copies(tmp_path, {30: 115.0, 20: 165.0})
    # gap = tri2 - fixed on a line, -0.674875 - 0.005 * mse: -1.0 on our copy (255**2 / 1000 =
    # 65.025), -1.575 and -1.825 at 115 and 165 more; the line says -0.675 at the original.
    for quality, gap in ((30, -1.575), (20, -1.825)):
        for seed in (0, 1):
            base = tmp_path / "ablations" / f"jpeg{quality}" / "paper" / f"seed{seed}"
            _csv(base / "fixed.csv", 0.78, 70_000)
            _csv(base / "triangular2.csv", 0.78 + gap / 100, 25_000)
    paper = {"fixed": {0: curve(0.80, 70_000), 1: curve(0.80, 70_000)},
             "triangular2": {0: curve(0.79), 1: curve(0.79)}}  # fmt: skip
    points = ablations.data_quality_points(tmp_path, paper)
    assert [p["label"] for p in points] == [
        "our copy (JPEG about 75)",
        "re-encoded at quality 30",
        "re-encoded at quality 20",
    ]
    assert [p["mse"] for p in points] == pytest.approx([65.025, 180.025, 230.025])
    assert points[0]["psnr_db"] == pytest.approx(30.0)
    assert points[1]["gaps"] == pytest.approx([-1.575, -1.575])
    fit = ablations.fit_dose_response(points)
    assert fit["slope"] == pytest.approx(-0.005) and fit["intercept"] == pytest.approx(-0.674875)
    assert fit["df"] == 4 and fit["low"] == pytest.approx(fit["high"])  # exact: no spread
    assert fit["slope_low"] == pytest.approx(fit["slope_high"]) and fit["slope_p"] < 1e-9
    assert ablations.fit_dose_response(points[:1]) is None


def test_table3_beside_ours(tmp_path):
    seed0 = tmp_path / "paper" / "adam" / "seed0"
    _csv(seed0 / "fixed.csv", 0.80, 70_000)
    _csv(seed0 / "triangular_70k.csv", 0.81, 30_000)  # still running, past 25,000
    rows = {(r["optimizer"], r["policy"]): r for r in table3.rows(tmp_path)}
    assert rows[("adam", "fixed")]["ours"] == {0: pytest.approx(80.0)}
    # Adam's 25k row is its 70k run at 25,000 (the same run up to there).
    at_25k = 10 + (81 - 10) * 25 / 30
    assert rows[("adam", "triangular")]["ours"] == {0: pytest.approx(at_25k)}
    assert rows[("adam", "triangular_70k")]["progress"] == {0: 30_000}
    assert rows[("adam", "triangular")]["progress"] is None  # its 25,000 is complete
    assert rows[("nesterov", "fixed")]["ours"] is None
    # RMSprop too has a 70k row in the paper; Nesterov has none, so its 25k row is its own.
    _csv(tmp_path / "paper" / "rmsprop" / "seed0" / "triangular_70k.csv", 0.75, 70_000)
    _csv(tmp_path / "paper" / "nesterov" / "seed0" / "triangular_70k.csv", 0.75, 70_000)
    rows = {(r["optimizer"], r["policy"]): r for r in table3.rows(tmp_path)}
    assert rows[("rmsprop", "triangular")]["ours"] == {0: pytest.approx(10 + 65 * 25 / 70)}
    assert rows[("nesterov", "triangular")]["ours"] is None
    text = table3.format_table(list(rows.values()))
    assert "| adam | 0.0005-0.002 | fixed | 70,000 | 80.0 (0) | - | 81.4 |" in text
    assert "running: seed 0 at 30,000" in text and "not run yet" in text


def test_table3_reads_each_cyclic_row_at_its_last_trough_too(tmp_path):
    # 25,000 iterations are 12.5 step sizes of 2,000: the row ends halfway up a rise, and its
    # last trough (rate at the lower bound) is 24,000; fixed is read at the same iteration.
    seed0 = tmp_path / "paper" / "adagrad" / "seed0"
    _csv(seed0 / "fixed.csv", 0.80, 70_000)
    _csv(seed0 / "triangular.csv", 0.76, 25_000)
    _csv(tmp_path / "paper" / "adam" / "seed0" / "triangular_70k.csv", 0.81, 70_000)
    rows = {(r["optimizer"], r["policy"]): r for r in table3.rows(tmp_path)}
    trough = rows[("adagrad", "triangular")]["trough"]
    assert trough["iteration"] == 24_000
    assert trough["ours"] == {0: pytest.approx(10 + 66 * 24 / 25)}
    assert trough["fixed"] == {0: pytest.approx(10 + 70 * 24 / 70)}
    assert rows[("adagrad", "fixed")]["trough"] is None
    # 70,000 iterations are 17.5 cycles of 4,000: the last trough is 68,000; no fixed run here.
    trough = rows[("adam", "triangular_70k")]["trough"]
    assert trough["iteration"] == 68_000 and trough["fixed"] == {}
    assert rows[("adam", "triangular")]["trough"]["iteration"] == 24_000
    assert rows[("rmsprop", "triangular")]["trough"] is None  # not run
    text = table3.format_table(list(rows.values()))
    assert "| 76.0 (0) | 73.4 at 24,000 (34.0) | 76.0 |" in text
    assert f"| {10 + 71 * 68 / 70:.1f} at 68,000 | 81.1 |" in text
    # A second seed: both columns show every seed beside the mean, at the end and at the trough
    # (the reading rule written before seed 1 ended), fixed's seeds too.
    seed1 = tmp_path / "paper" / "adagrad" / "seed1"
    _csv(seed1 / "fixed.csv", 0.70, 70_000)
    _csv(seed1 / "triangular.csv", 0.66, 25_000)
    text = table3.format_table(table3.rows(tmp_path))
    ours_24k, fixed_24k = 10 + 56 * 24 / 25, 10 + 60 * 24 / 70
    assert (
        "| adagrad | 0.003-0.035 | triangular | 25,000 | 71.0: 76.0, 66.0 (0, 1) | "
        f"{(73.4 + ours_24k) / 2:.1f}: 73.4, {ours_24k:.1f} at 24,000 "
        f"({(34.0 + fixed_24k) / 2:.1f}: 34.0, {fixed_24k:.1f}) | 76.0 |"
    ) in text


@pytest.mark.parametrize(
    "content",
    ["", "[]", '{"copies": {"30": {}}}', '{"copies": {"q30": {"against_source": {"mse": 1}}}}',
     '{"copies": {"30": {"against_source": {"mse": "a lot"}}}}'],
    ids=repr,
)  # fmt: skip
def test_a_damaged_record_of_the_copies_is_one_line_naming_it(tmp_path, content):
    path = tmp_path / "ablations" / "jpeg_copies.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(ValueError, match=r"jpeg_copies\.json is not a record of JPEG copies"):
        ablations.data_quality_points(tmp_path, {})


def test_a_line_needs_two_distortions():
    same = [dict(mse=65.0, gaps=[-1.0, -0.9]), dict(mse=65.0, gaps=[-1.1])]
    assert ablations.fit_dose_response(same) is None


def test_the_lines_intervals_on_a_known_case():
    # y = 1 + 0.5x + (+1, -1, -1, +1) at x = 0, 1, 2, 3: least squares gives intercept 1,
    # slope 0.5; residuals (1, -1, -1, 1): s^2 = 4/2 = 2; Sxx = 5, so se(slope) = sqrt(2/5)
    # and se(intercept) = sqrt(2 (1/4 + 1.5^2/5)) = sqrt(1.4); t(2) 97.5 % = 4.302653.
    points = [dict(mse=float(x), gaps=[1 + 0.5 * x + e]) for x, e in zip(range(4), (1, -1, -1, 1))]
    fit = ablations.fit_dose_response(points)
    q = 4.302652729749464
    assert fit["intercept"] == pytest.approx(1.0) and fit["slope"] == pytest.approx(0.5)
    assert fit["high"] - fit["intercept"] == pytest.approx(q * 1.4**0.5)
    assert fit["slope_high"] - fit["slope"] == pytest.approx(q * 0.4**0.5)
    # t = 0.5 / sqrt(0.4) = 0.7906 on 2 df: two-sided p = 1 - 0.7906 / sqrt(2 + 0.7906^2)
    t_value = 0.5 / 0.4**0.5
    assert fit["slope_p"] == pytest.approx(1 - t_value / (2 + t_value**2) ** 0.5)
    two = ablations.fit_dose_response([dict(mse=0.0, gaps=[1.0]), dict(mse=1.0, gaps=[2.0])])
    assert two["slope"] == pytest.approx(1.0) and two["low"] is None and two["slope_p"] is None
    assert ablations.describe_dose_response(two) == (
        "the line, pooled: gap = +1.00 +1.0000 x distortion; at the original +1.00 points, "
        "from 2 runs (0 residual df)"
    )


def test_the_line_with_a_term_per_seed_on_a_known_case():
    # Seed 0: gaps (0, 2, 2) at x = 0, 1, 2; seed 1: (5, 7) at x = 0, 2. Within seeds x has
    # mean 1 and Sxx = 2 + 2 = 4, Sxy = 2 + 2: slope 1. Intercepts 4/3 - 1 = 1/3 and 6 - 1 = 5,
    # their mean 8/3. Residuals (-1/3, 2/3, -1/3) and (0, 0): s^2 = (2/3) / (5 - 3) = 1/3;
    # se(slope)^2 = s^2 / 4 = 1/12. Var of the mean intercept: s^2 / 4 times
    # (1/3 + 1/4) + (1/2 + 1/4) + 2 (1/4) = 11/6, so 11/72.
    points = [
        dict(mse=0.0, seeds=[0, 1], gaps=[0.0, 5.0]),
        dict(mse=1.0, seeds=[0], gaps=[2.0]),
        dict(mse=2.0, seeds=[0, 1], gaps=[2.0, 7.0]),
    ]
    fit = ablations.fit_dose_response(points, seed_terms=True)
    q = 4.302652729749464  # t(2), 97.5 %
    assert fit["seed_terms"] and fit["df"] == 2 and fit["n"] == 5
    assert fit["slope"] == pytest.approx(1.0) and fit["intercept"] == pytest.approx(8 / 3)
    assert fit["slope_high"] - fit["slope"] == pytest.approx(q / 12**0.5)
    assert fit["high"] - fit["intercept"] == pytest.approx(q * (11 / 72) ** 0.5)
    t_value = 12**0.5  # on 2 df: two-sided p = 1 - t / sqrt(2 + t^2)
    assert fit["slope_p"] == pytest.approx(1 - t_value / (2 + t_value**2) ** 0.5)
    # Pooled, the seeds' offset (about 4.7 points) would pass for noise around one line.
    pooled = ablations.fit_dose_response(points)
    assert not pooled["seed_terms"] and pooled["df"] == 3
    text = ablations.describe_dose_response(fit)
    assert text.startswith("the line, with a term per seed (slope from within seeds): gap = +2.67")
    assert f"p = {fit['slope_p']:.2g}" in text and "from 5 runs (2 residual df)" in text
    assert pooled["slope_high"] - pooled["slope"] > 3 * (fit["slope_high"] - fit["slope"])


def test_a_term_per_seed_needs_a_seed_on_two_distortions():
    points = [dict(mse=0.0, seeds=[0], gaps=[1.0]), dict(mse=1.0, seeds=[1], gaps=[2.0])]
    assert ablations.fit_dose_response(points) is not None  # pooled: a line through two runs
    assert ablations.fit_dose_response(points, seed_terms=True) is None
    assert ablations.fit_dose_response([], seed_terms=True) is None
    unnamed = [dict(mse=0.0, gaps=[1.0]), dict(mse=1.0, seeds=[0, 1], gaps=[2.0])]
    with pytest.raises(ValueError, match=r"`points` must name the seed of each gap"):
        ablations.fit_dose_response(unnamed, seed_terms=True)
    assert ablations.fit_dose_response([]) is None


def test_the_dose_response_figure_draws_both_lines_and_their_intervals():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clr.cifar10.plots import plot_dose_response

    points = [
        dict(label="original", mse=0.0, psnr_db=30.0, seeds=[0, 1], gaps=[0.0, 5.0]),
        dict(label="JPEG 30", mse=1.0, psnr_db=28.0, seeds=[0], gaps=[2.0]),
        dict(label="JPEG 20", mse=2.0, psnr_db=26.0, seeds=[0, 1], gaps=[2.0, 7.0]),
    ]
    fit = ablations.fit_dose_response(points)
    by_seed = ablations.fit_dose_response(points, seed_terms=True)
    fig, ax = plt.subplots()
    plot_dose_response(points, fit, ax=ax, by_seed=by_seed)
    labels = ax.get_legend_handles_labels()[1]
    pooled_line, seed_line = (
        next(ln for ln in ax.get_lines() if ln.get_label().startswith(name))
        for name in ("pooled line;", "line with a term per seed;")
    )
    # each line starts at the original (distortion 0) at its own intercept: 8/3 per seed
    assert seed_line.get_xdata()[0] == 0 and seed_line.get_ydata()[0] == pytest.approx(8 / 3)
    assert pooled_line.get_ydata()[0] == pytest.approx(fit["intercept"])
    assert "line with a term per seed; at the original: +2.7 points" in labels
    intervals = [c for c in ax.containers if c.get_label().endswith("(no distortion)")]
    assert len(intervals) == 2
    # the per-seed interval sits just right of the pooled one, so both stay visible
    (x_pooled,), (x_seed,) = (c.lines[0].get_xdata() for c in intervals)
    assert x_pooled == 0 < x_seed < 0.1
    plt.close(fig)
    # without the per-seed line the figure is the pooled one alone
    fig, ax = plt.subplots()
    plot_dose_response(points, fit, ax=ax)
    assert not any("term per seed" in lb for lb in ax.get_legend_handles_labels()[1])
    plt.close(fig)
