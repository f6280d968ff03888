"""The ablations that ask why Table 1 does not reproduce (issue 22): each named policy's
schedule, the paper's exp_range, the JPEG copies and the runner's provenance of code changes.

Runs train on synthetic data the project generates, so they need no ../shared.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import clr
from clr import Constant, Join, Offset
from clr.cifar10 import protocol
from clr.cifar10.protocol import ABLATIONS, ALL_POLICIES, policy_schedule


def test_exp_range_bounds_decays_the_whole_band():
    gamma, it = 0.99994, np.arange(0, 42_001, 500)
    paper = clr.cyclic_lr(it, 0.001, 0.006, 2000, mode="exp_range_bounds", gamma=gamma)
    triangle = clr.cyclic_lr(it, 0.001, 0.006, 2000)
    np.testing.assert_allclose(paper, triangle * gamma**it, rtol=1e-12)
    ours = clr.cyclic_lr(it, 0.001, 0.006, 2000, mode="exp_range", gamma=gamma)
    assert ours.min() == pytest.approx(0.001)  # the callback's never goes under base_lr
    # The paper's band goes under it: at 42,000 (10.5 cycles: a peak) 0.006 * gamma**42,000.
    assert paper[-1] == pytest.approx(0.006 * gamma**42_000) and paper[-1] < 0.0005
    assert paper[it == 40_000][0] == pytest.approx(0.001 * gamma**40_000)  # a trough


def test_exp_range_bounds_is_checked_like_exp_range():
    assert clr.CyclicPolicy(mode="exp_range_bounds", gamma=0.9).resolved_scale_mode == "iterations"
    with pytest.raises(ValueError, match=r"`gamma` must be a finite number in \(0, 1\]"):
        clr.CyclicPolicy(mode="exp_range_bounds", gamma=1.5)
    with pytest.raises(ValueError, match=r"`scale_mode` must be None or 'iterations'"):
        clr.CyclicPolicy(mode="exp_range_bounds", scale_mode="cycle")
    with pytest.raises(ValueError, match=r"`gamma` only applies to mode 'exp_range' or"):
        clr.CyclicPolicy(mode="triangular2", gamma=0.9)


def test_exp_range_bounds_described():
    from clr._describe import policy_code, policy_formula

    policy = clr.CyclicPolicy(0.001, 0.006, 2000, mode="exp_range_bounds", gamma=0.99994)
    assert policy_code(policy) == (
        "CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000, mode='exp_range_bounds', "
        "gamma=0.99994)"
    )
    assert policy_formula(policy).splitlines()[-1] == (
        "lr(i) = (0.001 + (0.006 - 0.001) * triangle) * 0.99994**i"
    )


def test_offset_continues_the_count():
    second = clr.CyclicPolicy(0.0001, 0.0005, 1000, mode="triangular2")
    restarted = Join((Constant(0.001), second), (16_000,))
    continued = Join((Constant(0.001), Offset(second, 16_000)), (16_000,))
    it = np.arange(16_000, 22_000, 250)
    np.testing.assert_allclose(restarted(it), second(it - 16_000))
    np.testing.assert_allclose(continued(it), second(it))
    with pytest.raises(TypeError, match=r"`schedule` must be a clr schedule"):
        Offset(0.5, 10)
    with pytest.raises(
        ValueError, match=r"`iterations` must be a finite number in \[0, 9\.0072e\+15\]"
    ):
        Offset(second, -1)


def test_fixed_25k_drops_at_caffes_fractions():
    fixed, total, settings = policy_schedule("fixed_25k")
    assert total == 25_000 and settings["boundaries"] == [21_429, 23_214]
    assert [fixed(i) for i in (0, 21_428, 21_429, 23_213, 23_214, 24_999)] == [
        1e-3,
        1e-3,
        1e-4,
        1e-4,
        1e-5,
        1e-5,
    ]
    # The full baseline's drops are at the same fractions of 70,000.
    assert policy_schedule("fixed")[2]["boundaries"] == [60_000, 65_000]


def test_triangular2_global_counts_the_halving_from_zero():
    restarted, _, _ = policy_schedule("triangular2")
    global_, total, settings = policy_schedule("triangular2_global")
    assert total == 25_000 and settings["halving_counted_from"] == 0
    first = np.arange(0, 16_000, 100)
    np.testing.assert_array_equal(global_(first), restarted(first))  # phase 1 is the same
    # At 16,500 a resumed solver is in cycle 9 of step 1000: amplitude 0.0004 / 2**8.
    assert global_(16_500) == pytest.approx(0.0001 + 0.0004 * 0.5 / 2**8)
    assert restarted(16_500) == pytest.approx(0.0003)
    assert global_(22_500) == pytest.approx(0.00001 + 0.00004 / 2**22)


@pytest.mark.parametrize("name, peak", [("one_cycle_006", 0.006), ("one_cycle_008", 0.008)])
def test_one_cycle_peaks(name, peak):
    schedule, total, settings = policy_schedule(name)
    base, _, _ = policy_schedule("one_cycle")
    assert total == 25_000 and settings["max_lr"] == peak
    it = np.arange(0, 25_000, 100)
    np.testing.assert_allclose(schedule(it), base(it) * peak / protocol.ONE_CYCLE_MAX_LR)
    assert protocol.policy_momentum(name)(0) == pytest.approx(0.95)


@pytest.mark.parametrize("name", list(ABLATIONS))
def test_every_ablation_keeps_its_shape_when_scaled(name):
    full, n_full, _ = policy_schedule(name)
    quick, n_quick, _ = policy_schedule(name, 1 / 50)
    assert n_quick == round(n_full / 50)
    k = np.arange(0, n_quick, 7)
    if name.startswith("one_cycle"):
        np.testing.assert_allclose(quick(k), full(50 * k), rtol=0, atol=0.01 * full(11_249))
    else:
        np.testing.assert_allclose(quick(k), full(50 * k), rtol=1e-9)


def test_table3_triangular_70k_is_the_25k_run_continued():
    short, n_short, s_short = policy_schedule("triangular", optimizer_name="adam")
    long, n_long, s_long = policy_schedule("triangular_70k", optimizer_name="adam")
    assert (n_short, n_long) == (25_000, 70_000)
    it = np.arange(0, 25_000, 50)
    np.testing.assert_array_equal(short(it), long(it))
    with pytest.raises(ValueError, match=r"'triangular_70k' is a row of the paper's Table 3"):
        policy_schedule("triangular_70k")
    with pytest.raises(ValueError, match=r"with optimizer 'adam'"):
        policy_schedule("exp_range_bounds", optimizer_name="adam")


def test_ablation_names_are_runnable_and_unique():
    assert len(set(ALL_POLICIES)) == len(ALL_POLICIES)
    assert set(ABLATIONS) <= set(protocol.RUNNABLE) and "triangular_70k" in protocol.RUNNABLE


# -- the JPEG copies --------------------------------------------------------------------------


def test_reencode_is_deterministic_and_lossy():
    pytest.importorskip("PIL")
    from clr.cifar10.data import synthetic_cifar10
    from clr.cifar10.jpeg import distortion, reencode

    x = synthetic_cifar10(40, 10, seed=3).x_train
    q30, again, q90 = reencode(x, 30), reencode(x, 30), reencode(x, 90)
    np.testing.assert_array_equal(q30, again)
    assert q30.dtype == np.uint8 and q30.shape == x.shape
    worse, better = distortion(x, q30), distortion(x, q90)
    assert worse["mse"] > better["mse"] > 0 and worse["psnr_db"] < better["psnr_db"]
    assert distortion(x, x) == {"mse": 0.0, "psnr_db": float("inf")}
    with pytest.raises(ValueError, match=r"`quality` must be an integer in \[1, 95\]"):
        reencode(x, 0)
    with pytest.raises(ValueError, match=r"`images` must be uint8 RGB"):
        reencode(x.astype(np.float32), 30)


def test_jpeg_copies_script_writes_the_same_bytes_twice(tmp_path):
    pytest.importorskip("PIL")
    from clr.cifar10.data import synthetic_cifar10

    data = synthetic_cifar10(30, 10, seed=1)
    source = tmp_path / "small.npz"
    np.savez(source, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test,
             y_test=data.y_test)  # fmt: skip
    records = []
    for k in range(2):
        out = tmp_path / f"copies{k}"
        done = subprocess.run(
            [sys.executable, "scripts/jpeg_copies.py", "--data", str(source), "--quality", "25",
             "--out-dir", str(out), "--record", str(out / "record.json")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        records.append(json.loads((out / "record.json").read_text()))
    first, second = (r["copies"]["25"] for r in records)
    assert first["sha256"] == second["sha256"] and first["against_source"]["mse"] > 0
    with np.load(tmp_path / "copies0" / "cifar10-jpeg25.npz") as z:
        np.testing.assert_array_equal(z["y_train"], data.y_train)
        assert z["x_train"].shape == data.x_train.shape


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quality", "0"], r"--quality: must be a whole number in 1-95, got 0"),
        (["--quality", "101"], r"--quality: must be a whole number in 1-95, got 101"),
        (["--data", "no/such.npz"], r"error: No CIFAR-10 at no/such\.npz"),
    ],
)
def test_jpeg_copies_script_errors_are_one_line(tmp_path, args, message):
    done = subprocess.run(
        [sys.executable, "scripts/jpeg_copies.py", *args, "--out-dir", str(tmp_path),
         "--record", str(tmp_path / "record.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert re.search(message, done.stderr.strip().splitlines()[-1]), done.stderr
    assert not list(tmp_path.iterdir())


# -- provenance: which code ran which part ------------------------------------------------------


def test_resume_under_other_protocol_code_says_so_in_one_line(tmp_path, capsys):
    from clr.cifar10.provenance import PROTOCOL_FILES, protocol_fingerprint
    from clr.cifar10.runner import run_experiment

    kwargs = dict(preset="smoke", source="synthetic", out=tmp_path, verbose=0)
    csv_path = run_experiment("fixed_25k", stop_after=10, **kwargs)
    meta = csv_path.with_suffix(".json")
    provenance = json.loads(meta.read_text())
    (session,) = provenance["sessions"]
    assert session["protocol"] == protocol_fingerprint()
    assert set(session["protocol"]) == set(PROTOCOL_FILES)
    assert session["code"] is None or session["code"].endswith("+dirty") == (
        "diff_sha256" in session
    )
    capsys.readouterr()
    run_experiment("fixed_25k", stop_after=10, **kwargs)  # same code: silent
    assert "warning" not in capsys.readouterr().err
    # As if the last session had run other contents of protocol.py:
    provenance = json.loads(meta.read_text())
    provenance["sessions"][-1]["protocol"]["cifar10/protocol.py"] = "0" * 16
    meta.write_text(json.dumps(provenance))
    run_experiment("fixed_25k", stop_after=10, **kwargs)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: fixed_25k (seed 0) resumes at iteration")
    assert "(cifar10/protocol.py)" in err[0]
    last = json.loads(meta.read_text())["sessions"][-1]
    assert last["protocol_changed"] == ["cifar10/protocol.py"]
