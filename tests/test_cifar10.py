"""The paper's schedules, the resumable CIFAR-10 runner and its files (smoke preset).

The runs train on synthetic data the project generates, so they need no ../shared.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import clr
from clr import Constant, Exponential, Join, Linear
from clr.cifar10.protocol import POLICIES, policy_schedule
from clr.cifar10.results import read_results, run_paths


def test_building_blocks():
    assert Constant(0.01)(np.arange(3)).tolist() == [0.01] * 3
    assert Exponential(0.001, 0.5)(2) == pytest.approx(0.00025)
    np.testing.assert_allclose(
        Linear(0.007, 0.001, 4000)([0, 2000, 4000, 9000]), [0.007, 0.004, 0.001, 0.001]
    )
    joined = Join([Constant(1.0), clr.CyclicPolicy(0.1, 0.2, 10)], [5])
    np.testing.assert_allclose(
        joined([0, 4, 5, 15, 25]), [1.0, 1.0, 0.1, 0.2, 0.1]
    )  # restarts at 5
    with pytest.raises(ValueError, match=r"`boundaries` must have one entry fewer"):
        Join([Constant(1.0)], [5])
    with pytest.raises(ValueError, match=r"strictly increasing"):
        Join([Constant(1.0), Constant(2.0), Constant(3.0)], [5, 5])
    with pytest.raises(TypeError, match=r"schedules\[1\]=0\.5"):
        Join([Constant(1.0), 0.5], [5])
    with pytest.raises(ValueError, match=r"`lr` must be a finite number > 0. Received: lr=0"):
        Constant(0)


def test_paper_schedules():
    fixed, n, _ = policy_schedule("fixed")
    assert n == 70_000 and [fixed(i) for i in (0, 59_999, 60_000, 64_999, 65_000, 69_999)] == [
        1e-3,
        1e-3,
        1e-4,
        1e-4,
        1e-5,
        1e-5,
    ]
    tri2, n, settings = policy_schedule("triangular2")  # Table 2: three phases, two resets
    assert n == 25_000 and settings["boundaries"] == [16_000, 22_000]
    np.testing.assert_allclose(
        tri2([0, 2000, 6000, 16_000, 17_000, 22_000, 22_500]),
        [0.001, 0.005, 0.003, 0.0001, 0.0005, 0.00001, 0.00005],
    )
    exp_range, n, _ = policy_schedule("exp_range")
    assert n == 42_000 and exp_range(2000) == pytest.approx(
        clr.cyclic_lr(2000, mode="exp_range", gamma=0.99994)
    )
    decay, n, _ = policy_schedule("decay")
    np.testing.assert_allclose(decay([0, 4000, 20_000]), [0.007, 0.001, 0.001])
    exp, n, _ = policy_schedule("exp")
    assert n == 70_000 and exp(10_000) == pytest.approx(0.001 * 0.99994**10_000)


@pytest.mark.parametrize("policy", POLICIES)
def test_scaled_presets_keep_the_shape(policy):
    full, n_full, _ = policy_schedule(policy)
    quick, n_quick, _ = policy_schedule(policy, 1 / 50)
    assert n_quick == round(n_full / 50)
    k = np.arange(0, n_quick, 7)
    # 1cycle's phases end one iteration before their share of the run (PyTorch's layout), so a
    # scaled run matches the full one to that iteration, not exactly.
    if policy == "one_cycle":
        np.testing.assert_allclose(
            quick(k), full(50 * k), rtol=0, atol=0.01 * full(11_249)
        )  # 1 % of the peak
    else:
        np.testing.assert_allclose(quick(k), full(50 * k), rtol=1e-9)


def test_one_cycle_protocol_follows_the_committed_range_test():
    from clr.cifar10 import protocol
    from clr.cifar10.results import results_dir

    suggested = (
        clr.RangeTestResult.load(results_dir() / "paper" / "range_test.json").suggest().max_lr
    )
    assert protocol.ONE_CYCLE_MAX_LR == float(f"{suggested:.1g}")
    schedule, total, _ = policy_schedule("one_cycle")
    momentum = protocol.policy_momentum("one_cycle")
    assert total == 25_000 and schedule.three_phase and schedule(11_249) == pytest.approx(0.004)
    assert momentum(0) == pytest.approx(0.95) and momentum(11_249) == pytest.approx(0.85)
    assert protocol.policy_momentum("fixed") == 0.9


def run_cli(out, policy="fixed", *extra):
    cmd = [
        sys.executable,
        "-m",
        "clr.experiments",
        policy,
        "--preset",
        "smoke",
        "--data",
        "synthetic",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_killed_run_resumes_with_every_evaluation_exactly_once(tmp_path):
    straight = run_cli(tmp_path / "straight")
    assert straight.wait(timeout=300) == 0, straight.stdout.read()

    killed = run_cli(tmp_path / "killed")
    csv_path = run_paths(tmp_path / "killed", "smoke", 0, "fixed")["csv"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # kill it mid-run, after its third evaluation
        if csv_path.exists() and len(csv_path.read_text().splitlines()) >= 4:
            break
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert len(read_results(csv_path)["iteration"]) < 8  # it really was cut short

    resumed = run_cli(tmp_path / "killed")
    output = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, output
    a, b = (
        read_results(run_paths(tmp_path / "straight", "smoke", 0, "fixed")["csv"]),
        read_results(csv_path),
    )
    assert b["iteration"].tolist() == [0, 10, 20, 30, 40, 50, 60, 70]  # every evaluation, once
    assert a["iteration"].tolist() == b["iteration"].tolist()
    np.testing.assert_array_equal(a["lr"], b["lr"])
    # Same batches, same weights: the resumed run reproduces the uninterrupted one.
    np.testing.assert_allclose(b["test_loss"], a["test_loss"], rtol=1e-4)
    provenance = json.loads(csv_path.with_suffix(".json").read_text())
    assert (
        provenance["data"]["synthetic"] is True and "SYNTHETIC" in provenance["data"]["description"]
    )
    assert provenance["command"].startswith("python -m clr.experiments fixed --preset smoke")
    assert {"keras", "numpy", "python"} <= set(provenance["versions"]) and provenance[
        "iteration"
    ] == 70


def test_stop_after_and_refusing_other_settings(tmp_path):
    from clr.cifar10.runner import run_experiment

    path = run_experiment("triangular2", "smoke", "synthetic", tmp_path, verbose=0, stop_after=10)
    assert read_results(path)["iteration"].tolist() == [0, 10]
    # Another seed is another run, in its own folder, beside this one.
    other = run_experiment(
        "triangular2", "smoke", "synthetic", tmp_path, seed=1, verbose=0, stop_after=10
    )
    assert (
        other.parent.name == "seed1"
        and path.parent.name == "seed0"
        and other.parent.parent == path.parent.parent
    )
    path = run_experiment("triangular2", "smoke", "synthetic", tmp_path, verbose=0)
    result = read_results(path)
    assert result["iteration"].tolist() == [0, 10, 20, 25]
    # Provenance keeps one entry per invocation (the refused one wrote nothing).
    sessions = json.loads(path.with_suffix(".json").read_text())["sessions"]
    assert [s["from_iteration"] for s in sessions] == [0, 10]
    assert all(
        s["code"] is None or re.fullmatch(r"[0-9a-f]{12}(\+dirty)?", s["code"]) for s in sessions
    )
    tri2, _, _ = policy_schedule("triangular2", 1 / 1000)
    np.testing.assert_allclose(result["lr"], tri2(np.maximum(result["iteration"] - 1, 0)))


def test_comparison_table_on_known_curves():
    from clr.cifar10.results import comparison_table, format_table, iterations_to_reach

    it = np.arange(0, 71, 10)
    fixed = {"iteration": it, "test_accuracy": np.linspace(0.1, 0.8, it.size)}
    fast = {"iteration": it[:4], "test_accuracy": np.array([0.1, 0.5, 0.8, 0.81])}
    assert iterations_to_reach(fast, 0.8) == 20 and iterations_to_reach(fast, 0.9) is None
    rows = comparison_table({"fixed": fixed, "triangular2": fast}, scale=1 / 1000)
    tri2 = rows[1]
    assert (tri2["iterations"], tri2["to_baseline"], tri2["paper_iterations"]) == (
        30_000,
        20_000,
        25_000,
    )
    assert tri2["ratio"] == pytest.approx(20 / 70) and tri2["accuracy"] == pytest.approx(81.0)
    tri2_line = next(
        line for line in format_table(rows).splitlines() if line.startswith("triangular2")
    )
    assert tri2_line.split()[3:6] == ["20,000", "0.29", "never"]
    # read the other way: fixed never reaches 0.81 (triangular2's final accuracy); its own 0.8 at 70
    assert (tri2["baseline_to_same"], rows[0]["baseline_to_same"]) == (None, 70_000)
    slow = {"iteration": it[:3], "test_accuracy": np.array([0.1, 0.2, 0.3])}
    row = comparison_table({"fixed": fixed, "triangular2": slow})[1]
    assert (row["to_baseline"], row["ratio"], row["baseline_to_same"]) == (None, None, 20)
    with pytest.raises(ValueError, match=r"must include the baseline 'fixed'"):
        comparison_table({"triangular2": fast})


HEADER = "iteration,lr,train_loss,test_loss,test_accuracy,elapsed_s\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("iteration,test_acc\n0,0.1\n", r"does not start with the header"),
        (HEADER + "0,0.001,2.3,2.3,0.1,0", r"ends in the middle of a line"),
        (HEADER + "0,0.001,2.3,2.3,abc,0\n", r"line 2: .* is not a row of 6 numbers"),
        (HEADER + "0,0.001,2.3,2.3,0.1,0\n0,0.001,2.3,2.3,0.1,0\n", r"line 3: .* must increase"),
        (HEADER + "0,0.001,2.3,2.3,75.0,0\n", r"line 2: impossible values"),
        (b"\xff\xfe\x00", r"cannot be read"),
    ],
)
def test_a_damaged_results_file_is_refused_naming_file_and_line(tmp_path, text, message):
    from clr.cifar10.runfiles import RunError

    path = tmp_path / "fixed.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RunError, match=message) as info:
        read_results(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def _smoke(out, policy_name="fixed", **kwargs):
    from clr.cifar10.runner import run_experiment

    return run_experiment(policy_name, "smoke", "synthetic", out, verbose=0, **kwargs)


def test_the_runner_trains_through_clr_keras(tmp_path):
    keras = pytest.importorskip("keras")
    import clr.keras as ck

    path = _smoke(tmp_path, "triangular2", stop_after=10)
    model = keras.models.load_model(run_paths(tmp_path, "smoke", 0, "triangular2")["checkpoint"])
    optimizer = model.optimizer
    assert isinstance(optimizer, ck.SGD) and isinstance(
        ck.learning_rate_schedule(optimizer), ck.PolicySchedule
    )
    assert optimizer.lr_multipliers == {"conv1/bias": 2.0, "conv2/bias": 2.0, "ip1/bias": 2.0}
    schedule, _, _ = policy_schedule("triangular2", 1 / 1000)
    assert isinstance(ck.learning_rate_schedule(optimizer).policy, Join)
    steps = np.arange(25)
    np.testing.assert_allclose(
        [float(ck.learning_rate_schedule(optimizer)(s)) for s in steps], schedule(steps), rtol=1e-6
    )
    assert read_results(path)["iteration"].tolist() == [0, 10]


@pytest.mark.parametrize("damage", ["csv_only", "other_settings", "no_checkpoint", "bad_json"])
def test_files_of_another_run_are_never_replaced(tmp_path, damage):
    from clr.cifar10.runner import RunError

    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    if damage == "csv_only":  # e.g. committed results whose checkpoint is git-ignored
        paths["csv"].parent.mkdir(parents=True)
        paths["csv"].write_text(
            "iteration,lr,train_loss,test_loss,test_accuracy,elapsed_s\n0,0.001,nan,2.3,0.1,0\n"
        )
        message = r"exists without its provenance fixed\.json.*left as it is.*another --out"
    else:
        _smoke(tmp_path, stop_after=20)
        if damage == "other_settings":
            meta = json.loads(paths["provenance"].read_text())
            meta["settings"]["lrs"] = [0.002, 0.0001, 0.00001]
            paths["provenance"].write_text(json.dumps(meta))
            message = r"holds a fixed run with other `settings`"
        elif damage == "no_checkpoint":
            paths["checkpoint"].unlink()
            message = (
                r"holds 3 evaluations up to iteration 20 of 70 but its checkpoint .* is missing"
            )
        else:
            paths["provenance"].write_text('{"trunc')
            message = r"fixed\.json is not readable JSON"
    before = {k: p.read_bytes() for k, p in paths.items() if p.exists()}
    with pytest.raises(RunError, match=message):
        _smoke(tmp_path)
    assert {k: p.read_bytes() for k, p in paths.items() if p.exists()} == before  # untouched


def test_a_run_killed_before_its_first_evaluation_starts_again(tmp_path):
    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    _smoke(tmp_path, stop_after=10)
    # As if killed after writing its provenance and before the iteration-0 checkpoint:
    paths["csv"].unlink()
    paths["checkpoint"].unlink()
    path = _smoke(tmp_path)
    assert read_results(path)["iteration"].tolist() == [0, 10, 20, 30, 40, 50, 60, 70]


def test_a_finished_run_is_left_alone(tmp_path):
    path = _smoke(tmp_path)

    def stamps():  # the run's files (the lock beside them is the runner's, not the run's)
        return {p: p.stat().st_mtime_ns for p in path.parent.iterdir() if p.suffix != ".lock"}

    stamp = stamps()
    path.with_name("fixed.checkpoint.keras").unlink()  # a finished run needs no checkpoint
    assert _smoke(tmp_path) == path
    assert stamps() == {p: t for p, t in stamp.items() if p.exists()}


def test_provenance_is_written_at_start_with_the_data_hash(tmp_path):
    data = tmp_path / "tiny.npz"
    from clr.cifar10.data import synthetic_cifar10

    tiny = synthetic_cifar10(600, 200, seed=5)
    np.savez(
        data, x_train=tiny.x_train, y_train=tiny.y_train, x_test=tiny.x_test, y_test=tiny.y_test
    )
    from clr.cifar10.runner import run_experiment

    path = run_experiment("fixed", "smoke", str(data), tmp_path / "a", verbose=0, stop_after=10)
    meta = json.loads(path.with_suffix(".json").read_text())
    import hashlib

    assert meta["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    # The same bytes under another name are the same data: the run continues.
    moved = tmp_path / "renamed.npz"
    data.rename(moved)
    path = run_experiment("fixed", "smoke", str(moved), tmp_path / "a", verbose=0, stop_after=10)
    assert [
        s["from_iteration"] for s in json.loads(path.with_suffix(".json").read_text())["sessions"]
    ] == [0, 10]


def _cli(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-m", "clr.experiments", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["fixed", "--preset", "smoke", "--data", "no/such.npz"],
            r"No CIFAR-10 at no/such\.npz.*--data",
        ),
        (
            ["fixed", "--preset", "smoke", "--stop-after", "0"],
            r"--stop-after: must be an integer >= 1, got 0",
        ),
        (
            ["fixed", "--preset", "smoke", "--stop-after", "-5"],
            r"--stop-after: must be an integer >= 1, got -5",
        ),
        (
            ["fixed", "--preset", "smoke", "--seed", "-1"],
            r"--seed: must be an integer >= 0, got -1",
        ),
        # Ray queued such a trial and failed deep inside (or waited for ever).
        (["grid", "--cpus-per-trial", "-1"], r"--cpus-per-trial: must be a number > 0, got -1"),
        (["grid", "--cpus-per-trial", "0"], r"--cpus-per-trial: must be a number > 0, got 0"),
        (["grid", "--cpus-per-trial", "nan"], r"--cpus-per-trial: must be a number > 0, got nan"),
        (["grid", "--gpus-per-trial", "-1"], r"--gpus-per-trial: must be a number >= 0, got -1"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, args, message):
    code, out, err = _cli(*args, "--out", str(tmp_path))
    assert code == 2
    lines = [
        line
        for line in err.splitlines()
        if line.strip() and "usage:" not in line and not line.startswith(" ")
    ]
    assert len(lines) == 1 and re.search(message, lines[0]), err
    assert "Traceback" not in err


def test_cli_help_shows_defaults():
    code, out, _ = _cli("--help")
    assert code == 0 and "(default: quick)" in out and "(default: runs)" in out


def test_seed_table_on_known_curves():
    from clr.cifar10.results import format_seed_table, seed_table

    it = np.arange(0, 71, 10)
    curve = lambda final: {"iteration": it, "test_accuracy": np.linspace(0.1, final, it.size)}  # noqa: E731
    fast = lambda a, b: {"iteration": it[:3], "test_accuracy": np.array([0.1, a, b])}  # noqa: E731
    runs = {
        "fixed": {0: curve(0.80), 1: curve(0.82)},
        "triangular2": {0: fast(0.81, 0.805), 1: fast(0.7, 0.75), 2: fast(0.82, 0.83)},
    }
    rows = seed_table(runs, scale=1 / 1000)
    fixed, tri2 = rows
    assert fixed["accuracy_mean"] == pytest.approx(81.0) and fixed["accuracy_sd"] == pytest.approx(
        100 * np.std([0.8, 0.82], ddof=1)
    )
    # the target is fixed's mean final accuracy, 0.81: seeds 0 and 2 reach it at 10 (x1000),
    # seed 1 never
    assert (tri2["reached"], tri2["to_baseline_mean"], tri2["to_baseline_sd"]) == (2, 10_000, 0.0)
    assert tri2["accuracy_mean"] == pytest.approx(100 * np.mean([0.805, 0.75, 0.83]))
    # the equal budget: fixed's seeds after 20 (x1000) iterations, where triangular2 stops
    assert tri2["baseline_same_budget_mean"] == pytest.approx(100 * (0.3 + 0.1 + 2 * 0.72 / 7) / 2)
    assert fixed["baseline_same_budget_mean"] == pytest.approx(81.0)  # its own final accuracy
    # read the other way: both fixed seeds pass triangular2's mean 0.795 only at their last point
    assert (tri2["baseline_reached"], tri2["baseline_to_same_range"]) == (2, (70_000, 70_000))
    text = format_seed_table(rows)
    assert "10,000 ± 0 (2/3)" in text and "25,000, 81.4" in text
    assert tri2["finals"] == {
        0: pytest.approx(80.5),
        1: pytest.approx(75.0),
        2: pytest.approx(83.0),
    }
    markdown = format_seed_table(rows, markdown=True).splitlines()
    assert markdown[1] == "| --- | --- | --- | --- | --- | --- | --- |"
    assert (
        markdown[3].startswith("| triangular2 | 3 | 20,000 | 79.5 ± 4.1 |")
        and "| 10,000 ± 0 (2/3) |" in markdown[3]
    )


def test_split_complete_tells_finished_runs_from_running_ones():
    from clr.cifar10.results import split_complete

    def run(last):
        it = np.linspace(0, last, 11).astype(int)
        return {"iteration": it, "test_accuracy": np.linspace(0.1, 0.8, it.size)}

    runs = {"fixed": {0: run(70_000), 1: run(12_000)}, "exp": {0: run(48_000)}}
    complete, running = split_complete(runs)
    assert {p: sorted(s) for p, s in complete.items()} == {"fixed": [0]}
    assert running == {"fixed": {1: 12_000}, "exp": {0: 48_000}}
    # the quick preset's runs are 1/50 as long
    complete, running = split_complete({"decay": {0: run(500)}}, scale=1 / 50)
    assert list(complete) == ["decay"] and running == {}


def test_seed_comparison_figure_shows_mean_band_and_rate():
    import matplotlib

    matplotlib.use("Agg")
    from clr.cifar10.plots import plot_seed_comparison

    it = np.arange(0, 25_001, 1000)
    final = {0: 0.78, 1: 0.79, 2: 0.80}
    seeds = {
        s: {"iteration": it, "test_accuracy": np.linspace(0.5, a, it.size)}
        for s, a in final.items()
    }
    fig = plot_seed_comparison({"triangular2": seeds}, accuracy_range=(60, 85))
    ax_acc, ax_lr = fig.axes[:2]
    mean = ax_acc.get_lines()[0]
    assert mean.get_ydata()[-1] == pytest.approx(79.0)  # 78, 79, 80 % at the end
    (band,) = ax_acc.collections
    ys = band.get_paths()[0].vertices[:, 1]
    # the band runs from the lowest seed to the highest
    assert ys.min() == pytest.approx(50.0) and ys.max() == pytest.approx(80.0)
    assert ax_acc.get_ylim() == (60, 85) and ax_lr.get_yscale() == "log"
    rate = ax_lr.get_lines()[0].get_ydata()
    # Table 2's phases: 0.005 at the top of the first, ending near 1e-5
    assert rate.max() == pytest.approx(0.005, rel=1e-3) and rate[-1] == pytest.approx(
        1e-5, rel=0.05
    )


def test_the_seed_table_shows_where_crossings_scatter():
    from clr.cifar10.results import format_seed_table

    row = dict(
        policy="exp_range", seeds=[0, 1, 2], iterations=42_000, accuracy_mean=75.4,
        accuracy_sd=0.8, reached=0, to_baseline_mean=None, to_baseline_sd=None,
        baseline_to_same_mean=40_000, baseline_to_same_range=(20_000, 61_000),
        paper_iterations=42_000, paper_accuracy=82.2,
    )  # fmt: skip
    assert "40,000 (20,000-61,000)" in format_seed_table([row])
    row["baseline_to_same_range"] = (40_000, 40_000)
    assert "40,000 (" not in format_seed_table([row])
