"""The paper's schedules and the resumable CIFAR-10 runner (smoke preset, synthetic data)."""

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
from clr._schedules import constant, exponential, join, linear
from clr.experiments import POLICIES, policy_schedule, read_results


def test_building_blocks():
    assert constant(0.01)(np.arange(3)).tolist() == [0.01] * 3
    assert exponential(0.001, 0.5)(2) == pytest.approx(0.00025)
    np.testing.assert_allclose(linear(0.007, 0.001, 4000)([0, 2000, 4000, 9000]), [0.007, 0.004, 0.001, 0.001])
    joined = join([constant(1.0), clr.CyclicPolicy(0.1, 0.2, 10)], [5])
    np.testing.assert_allclose(joined([0, 4, 5, 15, 25]), [1.0, 1.0, 0.1, 0.2, 0.1])  # restarts at 5
    with pytest.raises(ValueError, match=r"`boundaries` must have one entry fewer"):
        join([constant(1.0)], [5])
    with pytest.raises(ValueError, match=r"strictly increasing"):
        join([constant(1.0), constant(2.0), constant(3.0)], [5, 5])


def test_paper_schedules():
    fixed, n, _ = policy_schedule("fixed")
    assert n == 70_000 and [fixed(i) for i in (0, 59_999, 60_000, 64_999, 65_000, 69_999)] == [1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5]
    tri2, n, settings = policy_schedule("triangular2")  # Table 2: three phases, two resets
    assert n == 25_000 and settings["boundaries"] == [16_000, 22_000]
    np.testing.assert_allclose(tri2([0, 2000, 6000, 16_000, 17_000, 22_000, 22_500]), [0.001, 0.005, 0.003, 0.0001, 0.0005, 0.00001, 0.00005])
    exp_range, n, _ = policy_schedule("exp_range")
    assert n == 42_000 and exp_range(2000) == pytest.approx(clr.cyclic_lr(2000, mode="exp_range", gamma=0.99994))
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
    np.testing.assert_allclose(quick(k), full(50 * k), rtol=1e-9)


def run_cli(out, policy="fixed", *extra):
    cmd = [sys.executable, "-m", "clr.experiments", policy, "--preset", "smoke", "--data", "synthetic", "--out", str(out), "--quiet", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_killed_run_resumes_with_every_evaluation_exactly_once(tmp_path):
    straight = run_cli(tmp_path / "straight")
    assert straight.wait(timeout=300) == 0, straight.stdout.read()

    killed = run_cli(tmp_path / "killed")
    csv_path = tmp_path / "killed" / "smoke" / "fixed.csv"
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
    a, b = read_results(tmp_path / "straight" / "smoke" / "fixed.csv"), read_results(csv_path)
    assert b["iteration"].tolist() == [0, 10, 20, 30, 40, 50, 60, 70]  # every evaluation, once
    assert a["iteration"].tolist() == b["iteration"].tolist()
    np.testing.assert_array_equal(a["lr"], b["lr"])
    # Same batches, same weights: the resumed run reproduces the uninterrupted one.
    np.testing.assert_allclose(b["test_loss"], a["test_loss"], rtol=1e-4)
    provenance = json.loads((tmp_path / "killed" / "smoke" / "fixed.json").read_text())
    assert provenance["data"]["synthetic"] is True and "SYNTHETIC" in provenance["data"]["description"]
    assert provenance["command"].startswith("python -m clr.experiments fixed --preset smoke")
    assert {"keras", "numpy", "python"} <= set(provenance["versions"]) and provenance["iteration"] == 70


def test_stop_after_and_refusing_other_settings(tmp_path):
    from clr.experiments import run_experiment

    path = run_experiment("triangular2", "smoke", "synthetic", tmp_path, verbose=0, stop_after=10)
    assert read_results(path)["iteration"].tolist() == [0, 10]
    with pytest.raises(ValueError, match=r"other `seed`"):
        run_experiment("triangular2", "smoke", "synthetic", tmp_path, seed=1, verbose=0)
    path = run_experiment("triangular2", "smoke", "synthetic", tmp_path, verbose=0)
    result = read_results(path)
    assert result["iteration"].tolist() == [0, 10, 20, 25]
    # Provenance keeps one entry per invocation (the refused one wrote nothing).
    sessions = json.loads(path.with_suffix(".json").read_text())["sessions"]
    assert [s["from_iteration"] for s in sessions] == [0, 10]
    assert all(s["code"] is None or re.fullmatch(r"[0-9a-f]{12}(\+dirty)?", s["code"]) for s in sessions)
    tri2, _, _ = policy_schedule("triangular2", 1 / 1000)
    np.testing.assert_allclose(result["lr"], tri2(np.maximum(result["iteration"] - 1, 0)))


def test_comparison_table_on_known_curves():
    from clr.experiments import comparison_table, format_table, iterations_to_reach

    it = np.arange(0, 71, 10)
    fixed = {"iteration": it, "test_accuracy": np.linspace(0.1, 0.8, it.size)}
    fast = {"iteration": it[:4], "test_accuracy": np.array([0.1, 0.5, 0.8, 0.81])}
    assert iterations_to_reach(fast, 0.8) == 20 and iterations_to_reach(fast, 0.9) is None
    rows = comparison_table({"fixed": fixed, "triangular2": fast}, scale=1 / 1000)
    tri2 = rows[1]
    assert (tri2["iterations"], tri2["to_baseline"], tri2["paper_iterations"]) == (30_000, 20_000, 25_000)
    assert tri2["ratio"] == pytest.approx(20 / 70) and tri2["accuracy"] == pytest.approx(81.0)
    tri2_line = next(line for line in format_table(rows).splitlines() if line.startswith("triangular2"))
    assert tri2_line.split()[3:6] == ["20,000", "0.29", "never"]
    # read the other way: fixed never reaches 0.81 (triangular2's final accuracy); its own 0.8 at 70
    assert (tri2["baseline_to_same"], rows[0]["baseline_to_same"]) == (None, 70_000)
    slow = {"iteration": it[:3], "test_accuracy": np.array([0.1, 0.2, 0.3])}
    row = comparison_table({"fixed": fixed, "triangular2": slow})[1]
    assert (row["to_baseline"], row["ratio"], row["baseline_to_same"]) == (None, None, 20)
    with pytest.raises(ValueError, match=r"must include the baseline 'fixed'"):
        comparison_table({"triangular2": fast})
