"""Faults and damaged files around the CIFAR-10 runner (issues 23 and 26): two runners on one
run, Ctrl-C and SIGTERM, a full disk, damaged CSVs, checkpoints and provenance, checkpoints
of another run. Each holds with one line and untouched files, and the resumed run equals an
uninterrupted one. Smoke preset on synthetic data: no ../shared needed.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from clr.cifar10.results import read_results, run_paths
from clr.cifar10.runfiles import RunError

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def _smoke(out, policy_name="fixed", **kwargs):
    from clr.cifar10.runner import run_experiment

    return run_experiment(policy_name, "smoke", "synthetic", out, verbose=0, **kwargs)


def _quick_triangular(out):
    """The quick preset's triangular (about 10 evaluations): long enough to interrupt."""
    from clr.cifar10.runner import run_experiment

    return run_experiment("triangular", "quick", "synthetic", out, verbose=0)


def _as_in_a_terminal() -> None:
    # A shell without job control starts background commands (`make test &`, `nohup ... &`)
    # with SIGINT ignored, and children inherit that: the runner rightly keeps ignoring it.
    # Ctrl-C reaches a command run in a terminal, so the runner under test gets the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(out, *extra, preset="smoke", policy="fixed"):
    cmd = [sys.executable, "-m", "clr.experiments", policy, "--preset", preset, "--data",
           "synthetic", "--out", str(out), "--quiet", *extra]  # fmt: skip
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=_as_in_a_terminal,
    )


def _same_run(a, b):
    """Two CSVs of the same seed: equal in every column but the time."""
    x, y = read_results(a), read_results(b)
    for column in ("iteration", "lr", "train_loss", "test_loss", "test_accuracy"):
        np.testing.assert_allclose(y[column], x[column], rtol=1e-6, err_msg=column)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """An uninterrupted smoke run of fixed, seed 0: what every resumed run must equal."""
    return _smoke(tmp_path_factory.mktemp("straight"))


@pytest.fixture(scope="module")
def straight_quick(tmp_path_factory):
    """An uninterrupted quick run of triangular, seed 0 (about 10 evaluations): long enough
    that a signal sent after its second one arrives while it trains, however loaded the
    machine. A smoke run once finished first, with CI and a training run beside it; running
    it at a lower priority instead made its stop take over 30 s on the loaded machine."""
    return _quick_triangular(tmp_path_factory.mktemp("straight_quick"))


def _wait_for_rows(csv_path, n, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if csv_path.exists() and len(csv_path.read_text().splitlines()) >= n + 1:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"{csv_path} never reached {n} rows")


# -- two runners on one run -------------------------------------------------------------------


def test_a_second_runner_on_the_same_run_refuses_in_one_line(tmp_path):
    from clr.cifar10.runfiles import checkpoint_meta, read_rows

    first = _cli(tmp_path, preset="quick", policy="triangular")  # about 10 evaluations
    paths = run_paths(tmp_path, "quick", 0, "triangular")
    _wait_for_rows(paths["csv"], 1, first)
    # The first is held (alive, lock taken) while the second starts, so however long the
    # second's import of TensorFlow takes, the first still has evaluations left at the Ctrl-C.
    first.send_signal(signal.SIGSTOP)
    try:
        held_at = len(paths["csv"].read_text().splitlines()) - 1
        second = _cli(tmp_path, preset="quick", policy="triangular")
        out, err = second.communicate(timeout=300)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2, err
    assert err.strip().count("\n") == 0 and f"another runner (pid {first.pid})" in err
    assert first.poll() is None  # the first goes on
    _wait_for_rows(paths["csv"], held_at + 1, first)
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=30) == 130
    # Nothing corrupted: the files read back whole and agree.
    rows = read_rows(paths["csv"], 480, 50)
    assert checkpoint_meta(paths["checkpoint"])["iteration"] in [r["iteration"] for r in rows]


def test_a_killed_runner_leaves_no_stuck_lock(tmp_path, straight):
    killed = _cli(tmp_path)
    csv_path = run_paths(tmp_path, "smoke", 0, "fixed")["csv"]
    _wait_for_rows(csv_path, 2, killed)
    killed.kill()
    killed.wait()
    assert csv_path.with_suffix(".lock").exists()
    _smoke(tmp_path)  # takes the lock and finishes
    _same_run(straight, csv_path)
    assert not csv_path.with_suffix(".lock").exists()  # a run that ends removes it


def test_the_lock_is_removed_when_a_run_ends_and_a_removed_one_is_never_shared(tmp_path):
    from clr.cifar10.runfiles import RunLock

    path = tmp_path / "fixed.lock"
    with RunLock(path):
        assert path.read_text() == f"pid {os.getpid()}"
        with pytest.raises(RunError, match=rf"another runner \(pid {os.getpid()}\)"):
            RunLock(path).__enter__()
    assert not path.exists()


def test_a_lock_file_removed_before_it_is_locked_is_dropped_for_the_current_one(
    tmp_path, monkeypatch
):
    import fcntl

    from clr.cifar10.runfiles import RunLock

    path = tmp_path / "fixed.lock"
    real, calls = fcntl.flock, []

    def holder_ends_meanwhile(file, flags):
        # Between our open and our flock, the holder ends (removing the file) and a third
        # runner creates a new one: a lock on ours would guard nothing.
        if not calls:
            path.unlink()
            path.write_text("pid 1")
        calls.append(file.fileno())
        return real(file, flags)

    monkeypatch.setattr(fcntl, "flock", holder_ends_meanwhile)
    with RunLock(path) as lock:
        assert len(calls) == 2  # it tried again, on the file now at the path
        assert os.fstat(lock._file.fileno()).st_ino == path.stat().st_ino


# -- Ctrl-C and SIGTERM --------------------------------------------------------------------


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_in_one_line_and_the_run_resumes_identically(
    tmp_path, straight_quick, signum, code
):
    proc = _cli(tmp_path, preset="quick", policy="triangular")
    csv_path = run_paths(tmp_path, "quick", 0, "triangular")["csv"]
    _wait_for_rows(csv_path, 2, proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    name = signal.Signals(signum).name
    assert err.strip().count("\n") == 0 and f"interrupted by {name} at iteration" in err
    assert "run the same command to resume" in err and "Traceback" not in err
    kept = read_results(csv_path)["iteration"]
    assert 2 <= len(kept) < len(read_results(straight_quick)["iteration"])
    assert not list(csv_path.parent.glob("*.tmp*"))  # nothing half-written left behind
    _quick_triangular(tmp_path)
    _same_run(straight_quick, csv_path)


def test_an_interrupt_during_the_checkpoint_write_keeps_the_last_one(
    tmp_path, straight, monkeypatch
):
    from clr.cifar10 import runner
    from clr.cifar10.runner import RunInterrupted

    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    _smoke(tmp_path, stop_after=20)
    before = paths["checkpoint"].read_bytes()
    real = runner.add_checkpoint_meta

    def interrupted(path, meta):  # Ctrl-C arrives while the new checkpoint is being written
        real(path, meta)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "add_checkpoint_meta", interrupted)
    with pytest.raises(RunInterrupted, match=r"interrupted by SIGINT at iteration 30") as info:
        _smoke(tmp_path)
    assert info.value.saved_iteration == 30  # the CSV row went first; its checkpoint did not
    assert paths["checkpoint"].read_bytes() == before
    assert not list(paths["csv"].parent.glob("*.tmp*"))
    monkeypatch.setattr(runner, "add_checkpoint_meta", real)
    _smoke(tmp_path)  # redoes iteration 30 from the checkpoint at 20
    _same_run(straight, paths["csv"])


def test_an_interrupt_whose_exception_is_dropped_still_stops_the_run(
    tmp_path, straight, monkeypatch
):
    """Python runs a signal's handler wherever the main thread is; raised inside a __del__ (a
    tf.data iterator's) or a library's blanket except, its KeyboardInterrupt is printed and
    dropped. The runner notices the signal at the next batch instead of training to the end."""
    from clr.cifar10 import runner
    from clr.cifar10.runner import RunInterrupted

    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    real = runner.write_rows

    def dropping(path, rows):  # Ctrl-C arrives while a library swallows everything
        if rows[-1]["iteration"] == 20:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)  # the handler runs here
            except KeyboardInterrupt:
                pass
        real(path, rows)

    monkeypatch.setattr(runner, "write_rows", dropping)
    # As in a terminal: started in the background (`make test &`), pytest inherits an ignored
    # SIGINT, which the runner rightly leaves ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(RunInterrupted, match=r"by SIGINT at iteration 20 of") as info:
            _smoke(tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert info.value.saved_iteration == 20
    assert read_results(paths["csv"])["iteration"][-1] == 20
    monkeypatch.setattr(runner, "write_rows", real)
    _smoke(tmp_path)
    _same_run(straight, paths["csv"])


def test_an_ignored_sigint_stays_ignored_and_handlers_are_restored(tmp_path, straight):
    """A run under nohup ignores Ctrl-C and trains on; a run in a terminal gets its handler
    back when it ends."""
    from clr.cifar10.runner import run_experiment

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run_experiment(
            "fixed", "smoke", "synthetic", tmp_path, verbose=0,
            on_evaluation=lambda row: os.kill(os.getpid(), signal.SIGINT),
        )  # fmt: skip
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _smoke(tmp_path / "again", stop_after=10)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    _same_run(straight, run_paths(tmp_path, "smoke", 0, "fixed")["csv"])


def test_ten_interrupts_at_random_moments_each_stop_within_5_seconds(tmp_path):
    """Ctrl-C while starting, compiling, training and evaluating a quick run: never swallowed."""
    rng = random.Random(23)
    delays = [0.3, 2.0, 4.0] + [rng.uniform(0.5, 25.0) for _ in range(7)]
    for k, delay in enumerate(delays):
        proc = _cli(tmp_path / f"run{k}", preset="quick", policy="triangular")
        time.sleep(delay)
        if proc.poll() is not None:  # finished before the interrupt: nothing to test here
            continue
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"Ctrl-C after {delay:.1f} s was not acted on in 5 s") from None
        took = time.monotonic() - sent
        assert proc.returncode == 130, (delay, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("python -m clr.experiments: ")
        assert "interrupted" in lines[0] and "Traceback" not in err
        assert took < 5, (delay, took)


# -- a full disk ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (root and mount needed; otherwise the test skips and says why)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): needs root")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_the_run_resumes_once_space_is_freed(small_disk, straight):
    paths = run_paths(small_disk, "smoke", 0, "fixed")
    _smoke(small_disk, stop_after=20)
    # Fill the disk, leaving room for a CSV but not for another checkpoint.
    free = shutil.disk_usage(small_disk).free
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (free - 50_000))
    before = {k: p.read_bytes() for k, p in paths.items()}
    proc = subprocess.run(
        [sys.executable, "-m", "clr.experiments", "fixed", "--preset", "smoke", "--data",
         "synthetic", "--out", str(small_disk), "--quiet"],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert err.count("\n") == 0 and "no space left on the device writing" in err
    assert str(paths["checkpoint"]) in err
    # Nothing truncated is the current file: the checkpoint is the old one, the provenance
    # whole (with this session's entry), the CSV whole (a row ahead, which the resume redoes).
    from clr.cifar10.runfiles import read_provenance

    assert paths["checkpoint"].read_bytes() == before["checkpoint"]
    assert read_provenance(paths["provenance"])["iteration"] == 20
    assert read_results(paths["csv"])["iteration"].tolist() == [0, 10, 20, 30]
    assert not list(paths["csv"].parent.glob("*.tmp*"))
    filler.unlink()
    _smoke(small_disk)
    _same_run(straight, paths["csv"])


# -- damaged files and files of another run ---------------------------------------------------

CSV_DAMAGE = {
    "row deleted": lambda lines: lines[:2] + lines[3:],
    "row duplicated": lambda lines: lines[:3] + lines[2:],
    "garbage appended": lambda lines: [*lines, "garbage,,,"],
    "truncated mid-line": lambda lines: [*lines[:-1], lines[-1][:7]],
    "header missing": lambda lines: lines[1:],
    "impossible accuracy": lambda lines: [*lines[:-1], lines[-1].rsplit(",", 2)[0] + ",7.5,3.0"],
}


@pytest.mark.parametrize("damage", list(CSV_DAMAGE))
def test_a_damaged_csv_is_refused_in_one_line(tmp_path, damage):
    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    _smoke(tmp_path, stop_after=30)
    lines = paths["csv"].read_text().splitlines()
    text = "\n".join(CSV_DAMAGE[damage](lines))
    paths["csv"].write_text(text + ("" if damage == "truncated mid-line" else "\n"))
    before = {k: p.read_bytes() for k, p in paths.items()}
    with pytest.raises(RunError) as info:
        _smoke(tmp_path)
    assert str(paths["csv"]) in str(info.value) and "\n" not in str(info.value)
    assert {k: p.read_bytes() for k, p in paths.items()} == before


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _copy_from_seed1(paths, key, tmp_path):
    other = run_paths(tmp_path, "smoke", 1, "fixed")
    _smoke(tmp_path, seed=1, stop_after=20)
    paths[key].write_bytes(other[key].read_bytes())


FILE_DAMAGE = {
    "checkpoint truncated": (lambda p, t: _truncate(p["checkpoint"]), r"checkpoint .*truncated"),
    "checkpoint of another seed": (
        lambda p, t: _copy_from_seed1(p, "checkpoint", t),
        r"belongs to another run \(seed 1",
    ),
    "provenance of another seed": (
        lambda p, t: _copy_from_seed1(p, "provenance", t),
        r"holds a fixed run with other `seed` \(1\)",
    ),
    "provenance not an object": (
        lambda p, t: p["provenance"].write_text("[1, 2]"),
        r"must hold a JSON object",
    ),
    "provenance without its seed": (
        lambda p, t: p["provenance"].write_text(
            json.dumps(
                {k: v for k, v in json.loads(p["provenance"].read_text()).items() if k != "seed"}
            )  # fmt: skip
        ),
        r"key 'seed' must be int; it is missing",
    ),
    "provenance empty": (lambda p, t: p["provenance"].write_text(""), r"not readable JSON"),
}


@pytest.mark.parametrize("damage", list(FILE_DAMAGE))
def test_damaged_or_foreign_files_are_refused_in_one_line(tmp_path, damage):
    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    _smoke(tmp_path, stop_after=30)
    make, message = FILE_DAMAGE[damage]
    make(paths, tmp_path)
    before = {k: p.read_bytes() for k, p in paths.items()}
    with pytest.raises(RunError, match=message) as info:
        _smoke(tmp_path)
    assert "\n" not in str(info.value)
    assert {k: p.read_bytes() for k, p in paths.items()} == before


def _set_checkpoint_meta(path, **changes):
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta = {**json.loads(members["clr_run.json"]), **changes}
    members["clr_run.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(policy_name="triangular2"), r"belongs to another run \(policy_name 'triangular2'"),
        (dict(optimizer_name="adam"), r"belongs to another run \(optimizer_name 'adam'"),
        (dict(preset="quick"), r"belongs to a run of preset 'quick'"),
        (dict(iteration=70), r"saved at iteration 70, which fixed\.csv does not hold"),
        (dict(iteration=25), r"saved at iteration 25"),
    ],
)
def test_a_checkpoint_that_disagrees_with_the_csv_is_refused(tmp_path, changes, message):
    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    _smoke(tmp_path, stop_after=30)
    _set_checkpoint_meta(paths["checkpoint"], **changes)
    before = {k: p.read_bytes() for k, p in paths.items()}
    with pytest.raises(RunError, match=message):
        _smoke(tmp_path)
    assert {k: p.read_bytes() for k, p in paths.items()} == before


def test_killed_before_its_first_row_restarts_cleanly(tmp_path, straight):
    paths = run_paths(tmp_path, "smoke", 0, "fixed")
    _smoke(tmp_path, stop_after=10)
    paths["csv"].unlink()
    paths["checkpoint"].unlink()  # as if killed after the provenance, before any row
    _smoke(tmp_path)
    _same_run(straight, paths["csv"])
    # Only the first row and no checkpoint: nothing to lose, it starts again too.
    out = tmp_path / "b"
    b = run_paths(out, "smoke", 0, "fixed")
    _smoke(out, stop_after=10)
    b["csv"].write_text("\n".join(b["csv"].read_text().splitlines()[:2]) + "\n")
    b["checkpoint"].unlink()
    _smoke(out)
    _same_run(straight, b["csv"])
