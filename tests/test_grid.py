"""The comparison grid on Ray Tune (local Ray, smoke preset, synthetic data the project makes).

A 2 x 2 grid writes the same files, with the same numbers, as four single runs; a rerun after
completion trains nothing; a worker that dies mid-trial is restarted and its CSV holds every
evaluation once.
"""

import json

import numpy as np
import pytest

pytest.importorskip("ray")
pytest.importorskip("keras")

from clr.cifar10 import grid  # noqa: E402
from clr.cifar10.results import read_results, run_paths  # noqa: E402
from clr.cifar10.runner import run_experiment  # noqa: E402

POLICIES, SEEDS = ["fixed", "triangular2"], [0, 1]


@pytest.fixture(scope="module")
def grid_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    summary = grid.run_grid(
        POLICIES, SEEDS, preset="smoke", source="synthetic", out=out, cpus_per_trial=1
    )
    return out, summary


def test_a_grid_writes_what_single_runs_write(grid_out, tmp_path):
    out, summary = grid_out
    assert sorted((s["policy_name"], s["seed"]) for s in summary) == [
        (p, s) for p in POLICIES for s in SEEDS
    ]
    assert all(s["error"] is None and s["metrics"]["iteration"] in (25, 70) for s in summary)
    for policy_name in POLICIES:
        for seed in SEEDS:
            single = run_experiment(
                policy_name, "smoke", "synthetic", tmp_path, seed=seed, verbose=0
            )
            mine = run_paths(out, "smoke", seed, policy_name)["csv"]
            a, b = read_results(single), read_results(mine)
            assert a["iteration"].tolist() == b["iteration"].tolist()
            np.testing.assert_array_equal(a["lr"], b["lr"])
            np.testing.assert_allclose(b["test_loss"], a["test_loss"], rtol=1e-4)
            meta = json.loads(mine.with_suffix(".json").read_text())
            assert (meta["policy_name"], meta["seed"], meta["optimizer_name"]) == (
                policy_name,
                seed,
                "sgd",
            )
            assert run_paths(out, "smoke", seed, policy_name)["checkpoint"].exists()


def test_a_rerun_after_completion_trains_nothing(grid_out):
    out, _ = grid_out
    files = sorted(p for p in (out / "smoke").rglob("*") if p.is_file())
    stamps = {p: p.stat().st_mtime_ns for p in files}
    summary = grid.run_grid(
        POLICIES, SEEDS, preset="smoke", source="synthetic", out=out, cpus_per_trial=1
    )
    assert len(summary) == 4
    assert {
        p: p.stat().st_mtime_ns for p in files
    } == stamps  # no row, checkpoint or provenance written


def test_a_killed_worker_is_restarted_and_nothing_is_lost_or_counted_twice(tmp_path, monkeypatch):
    monkeypatch.setenv(grid._DIE_AFTER, "30")  # the first attempt dies after 30 of 70 iterations
    summary = grid.run_grid(
        ["fixed"], [0], preset="smoke", source="synthetic", out=tmp_path, cpus_per_trial=1
    )
    assert summary[0]["error"] is None
    assert (tmp_path / ".died-fixed-0-sgd").exists()  # it did die once
    csv_path = run_paths(tmp_path, "smoke", 0, "fixed")["csv"]
    assert read_results(csv_path)["iteration"].tolist() == [0, 10, 20, 30, 40, 50, 60, 70]
    sessions = json.loads(csv_path.with_suffix(".json").read_text())["sessions"]
    assert [s["from_iteration"] for s in sessions] == [0, 30]  # resumed, not restarted


def test_grid_arguments_are_checked_before_ray_starts():
    with pytest.raises(ValueError, match=r"`policies` must be one of"):
        grid.grid_trials(["fixd"], [0], ["sgd"])
    with pytest.raises(
        ValueError,
        match=r"optimizers other than sgd run only \('fixed', 'triangular', 'triangular_70k'\)",
    ):
        grid.grid_trials(["triangular2"], [0], ["adam"])
    trials = grid.grid_trials(["fixed", "triangular2"], [0, 1], ["sgd", "adam"])
    assert len(trials) == 6 and {
        t["optimizer_name"] for t in trials if t["policy_name"] == "triangular2"
    } == {"sgd"}
    # Table 3's 70k row runs with Adam only; the ablations with SGD only.
    trials = grid.grid_trials(["triangular_70k", "fixed_25k"], [0], ["sgd", "adam"])
    assert [(t["policy_name"], t["optimizer_name"]) for t in trials] == [
        ("fixed_25k", "sgd"),
        ("triangular_70k", "adam"),
    ]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"cpus_per_trial": 0}, r"`cpus_per_trial` must be a finite number in \(0, 1024\]"),
        ({"cpus_per_trial": float("nan")}, r"`cpus_per_trial` must be"),
        ({"gpus_per_trial": -1}, r"`gpus_per_trial` must be a finite number in \[0, 1024\]"),
        ({"max_failures": -1}, r"`max_failures` must be"),
    ],
)
def test_trial_resources_are_checked_before_ray_starts(bad, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        grid.run_grid(["fixed"], [0], preset="smoke", source="synthetic", out=tmp_path, **bad)
    assert not (tmp_path / "ray_results").exists()


def test_a_trial_asking_for_gpus_the_machine_lacks_is_refused_not_queued(tmp_path):
    # Ray would queue the trial and wait for ever for a GPU that is not there.
    import ray

    with pytest.raises(ValueError, match=r"`gpus_per_trial` must be at most the \d+ GPUs"):
        grid.run_grid(
            ["fixed"], [0], preset="smoke", source="synthetic", out=tmp_path, gpus_per_trial=64
        )
    assert not ray.is_initialized()


@pytest.mark.parametrize("optimizer_name", ["nesterov", "adam", "rmsprop", "adagrad", "adadelta"])
def test_table3_optimizers_run_the_smoke_preset(optimizer_name, tmp_path):
    path = run_experiment(
        "triangular", "smoke", "synthetic", tmp_path, verbose=0, optimizer_name=optimizer_name
    )
    assert path == run_paths(tmp_path, "smoke", 0, "triangular", optimizer_name)["csv"]
    assert path.parent.parent.name == optimizer_name  # OUT/smoke/OPTIMIZER/seed0/
    result = read_results(path)
    assert result["iteration"][-1] == 25 and np.all(np.isfinite(result["test_loss"]))
