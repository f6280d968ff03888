"""Train ``cifar10_full`` with one Table 1 policy under one preset and seed, resumably.

Every evaluation appends a row to ``OUT/PRESET/seedN/POLICY.csv`` (iteration, lr, train loss,
test loss, test accuracy, elapsed seconds) and saves a checkpoint and the provenance beside it.
Started again with the same arguments, a killed run resumes from its last checkpoint: rows
written after that checkpoint are dropped and recomputed, so the CSV holds every evaluation
exactly once, and the batch order is a function of the iteration, so the resumed run sees the
same batches. A finished run is left alone. Files that this run's lineage did not write are
never replaced: the run refuses and says what is there.

The network trains through the package's own Keras API: ``clr.keras.SGD`` with the policy as a
``clr.keras.PolicySchedule`` (evaluated inside the compiled step) and Caffe's bias
``lr_multipliers``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .._batches import batch_indices
from .._checks import check_choice, check_int
from .data import Cifar10, load_cifar10, preprocess, synthetic_cifar10
from .protocol import OPTIMIZERS, PRESETS, RUNNABLE, Protocol, policy_momentum, policy_schedule
from .results import run_paths
from .runfiles import (
    RunError,
    RunLock,
    add_checkpoint_meta,
    checkpoint_meta,
    io_error,
    read_provenance,
    read_rows,
    write_atomic,
    write_rows,
)

__all__ = [
    "RunError",
    "RunInterrupted",
    "run_experiment",
    "run_range_test",
    "import_keras_quietly",
    "RANGE_TEST",
]


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM; its files hold every evaluation up to
    ``saved_iteration``, and the same command resumes it. ``signum`` is the signal."""

    def __init__(self, message: str, signum: int, saved_iteration: int) -> None:
        super().__init__(message)
        self.signum, self.saved_iteration = signum, saved_iteration


class _SignalNoticed(KeyboardInterrupt):
    """A SIGINT or SIGTERM whose handler's exception was dropped, acted on between batches."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum


class _NoticeInterrupts:
    """Records SIGINT and SIGTERM as they arrive, then calls their handler as before.

    Python runs a handler at whatever bytecode the main thread is at; an exception it raises
    inside a ``__del__`` (a tf.data iterator's, a zip file's) or a library's blanket ``except``
    is printed and dropped, and the run would go on to its end. The loop calls :meth:`check`
    after every batch, so such an interrupt still stops it there. Handlers that are not Python
    functions are left alone: an ignored SIGINT (``nohup``) stays ignored.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Callable[..., Any]] = {}

    def __enter__(self) -> _NoticeInterrupts:
        if threading.current_thread() is threading.main_thread():  # the only one that may set them
            for signum in (signal.SIGINT, signal.SIGTERM):
                handler = signal.getsignal(signum)
                if callable(handler):
                    self._previous[signum] = handler
                    signal.signal(signum, self._record)
        return self

    def _record(self, signum: int, frame: Any) -> None:
        self.received.append(signum)
        self._previous[signum](signum, frame)

    def check(self) -> None:
        if self.received:
            raise _SignalNoticed(self.received[0])

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def import_keras_quietly() -> None:
    """Load Keras (and TensorFlow) with C-level stderr muted: TensorFlow 2.21 prints its oneDNN
    notice and absl's start-up warning whatever TF_CPP_MIN_LOG_LEVEL says. An import error
    still raises, with its message, once stderr is back."""
    if "keras" in sys.modules:
        return
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import keras  # noqa: F401

        keras.ops.zeros(1)  # the first op starts the runtime, which logs too
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# -- data and batches ----------------------------------------------------------------------


def _load_data(source: str | None, protocol: Protocol, seed: int) -> Cifar10:
    if source == "synthetic":
        raw = synthetic_cifar10(protocol.n_train or 5000, protocol.n_test or 1000, seed=seed)
    else:
        raw = load_cifar10(source)
    return preprocess(raw, seed=seed, n_train=protocol.n_train, n_test=protocol.n_test)


def _versions() -> dict[str, str]:
    import keras

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "clr": __version__,
    }
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:
        pass
    versions["backend"] = keras.backend.backend()
    return versions


# The files whose content decides what a run computes: the schedules, the optimizers, the
# network, the data's preprocessing, the batch order and the training loop. A run resumed
# under other contents of these says so (one line) and records it.
PROTOCOL_FILES = (
    "_batches.py",
    "_one_cycle.py",
    "_policies.py",
    "_scales.py",
    "_schedules.py",
    "keras.py",
    "cifar10/data.py",
    "cifar10/models.py",
    "cifar10/protocol.py",
    "cifar10/runner.py",
)


def protocol_fingerprint() -> dict[str, str]:
    """sha256 (first 16 hex digits) of each of ``PROTOCOL_FILES`` as this process runs them:
    works in a git checkout, an installed wheel or a dirty tree alike."""
    package = Path(__file__).resolve().parents[1]
    return {
        name: hashlib.sha256((package / name).read_bytes()).hexdigest()[:16]
        for name in PROTOCOL_FILES
    }


def _code_revision() -> dict[str, Any]:
    """Which code produced a result: the git commit of this checkout (``+dirty`` with
    uncommitted changes to ``clr/``, and then the sha256 of that diff, untracked files
    included), or None outside a git checkout."""
    package = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=package, capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    try:
        revision = git("rev-parse", "--short=12", "HEAD").strip()
        status = git("status", "--porcelain", "--untracked-files=all", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return {"code": None}
    if not status.strip():
        return {"code": revision}
    digest = hashlib.sha256(git("diff", "HEAD", "--", ".").encode())
    for line in sorted(status.splitlines()):
        if line.startswith("??"):  # untracked: its name and content
            path = package.parents[0] / line[3:].strip()
            digest.update(line.encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return {"code": revision + "+dirty", "diff_sha256": digest.hexdigest()}


def _protocol_changes(sessions: list[dict[str, Any]], now: dict[str, str]) -> list[str]:
    """The protocol files whose content differs from the last session that recorded them."""
    before = next((s["protocol"] for s in reversed(sessions) if "protocol" in s), None)
    if before is None:
        return []
    return sorted(name for name in set(before) | set(now) if before.get(name) != now.get(name))


def _data_identity(data: Cifar10) -> dict[str, Any]:
    """What identifies the data: its content (sha256 of the file, or the generator's call for
    synthetic data), not the path it was read from."""
    return {
        "sha256": data.sha256,
        "synthetic": data.synthetic,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
    }


def _decide(
    paths: dict[str, Path], provenance: dict[str, Any], total: int, eval_every: int
) -> tuple[str, list[dict[str, float]]]:
    """``("new" | "resume" | "done", rows)`` for the files at ``paths`` (the CSV's checked rows),
    or RunError when they belong to a run this command must not continue or replace, or are
    damaged, or disagree with each other. Nothing is written here."""
    csv_path, ckpt, meta = paths["csv"], paths["checkpoint"], paths["provenance"]
    folder = csv_path.parent
    before = read_provenance(meta)
    if before is None:
        if csv_path.exists() or ckpt.exists():
            what = csv_path if csv_path.exists() else ckpt
            raise RunError(
                f"{what} exists without its provenance {meta.name}: it is not this run's, so it "
                f"is left as it is. Use another --out, or move {folder} away to start over."
            )
        return "new", []
    before = {"optimizer_name": "sgd", **before}  # runs from before Table 3's optimizers were SGD
    for key in ("policy_name", "optimizer_name", "preset", "settings", "seed"):
        if before.get(key) != json.loads(json.dumps(provenance[key])):
            raise RunError(
                f"{folder} holds a {before.get('policy_name')} run with other `{key}` "
                f"({before.get(key)!r}) in {meta.name}; "
                "it is left as it is. Use another --out."
            )
    old, new = before["data"], provenance["data"]
    if (old.get("sha256"), old.get("n_train"), old.get("n_test")) != (
        new["sha256"],
        new["n_train"],
        new["n_test"],
    ):
        raise RunError(
            f"{folder} holds a run on other data (sha256 {old.get('sha256')}, "
            f"{old.get('description')}); "
            "it is left as it is. Use another --out."
        )
    rows = read_rows(csv_path, total, eval_every) if csv_path.exists() else []
    last = rows[-1]["iteration"] if rows else None
    if last == total and before["iteration"] == total:
        return "done", rows
    if not ckpt.exists():
        if last in (None, 0):
            # Killed before its first evaluation after iteration 0: nothing to lose.
            return "new", []
        raise RunError(
            f"{csv_path} holds {len(rows)} evaluations up to iteration {last:,} "
            f"of {total:,} but its checkpoint {ckpt.name} is missing, so it cannot be continued; "
            "it is left as it is. Use another --out, or restore the checkpoint."
        )
    saved = checkpoint_meta(ckpt)
    if saved is not None:
        for key in ("policy_name", "optimizer_name", "seed"):
            if saved.get(key) != provenance[key]:
                raise RunError(
                    f"{ckpt} belongs to another run ({key} {saved.get(key)!r}, this run's "
                    f"{provenance[key]!r}); it is left as it is. Use another --out, or restore "
                    "this run's checkpoint."
                )
        if saved.get("preset") != provenance["preset"]["name"]:
            raise RunError(
                f"{ckpt} belongs to a run of preset {saved.get('preset')!r}, not "
                f"{provenance['preset']['name']!r}; it is left as it is."
            )
        done = [r["iteration"] for r in rows]
        if saved.get("iteration") not in done:
            raise RunError(
                f"{ckpt} was saved at iteration {saved.get('iteration')!r}, which {csv_path.name} "
                f"does not hold (its evaluations reach {last if last is not None else 'none'}); "
                "the files disagree and are left as they are."
            )
    return "resume", rows


# -- the run -----------------------------------------------------------------------------------


def _command(*args: str, source: str | None) -> str:
    return "python -m clr.experiments " + shlex.join(
        [*args] + (["--data", str(source)] if source else [])
    )


def _optimizer(
    optimizer_name: str, learning_rate: Any, momentum: Any, lr_multipliers: dict[str, float]
) -> Any:
    """The Keras optimizer of ``optimizer_name`` (``protocol.OPTIMIZERS``), from ``clr.keras``."""
    from .. import keras as clr_keras

    settings = dict(OPTIMIZERS[optimizer_name].settings)
    kinds = {
        "sgd": clr_keras.SGD,
        "nesterov": clr_keras.SGD,
        "adam": clr_keras.Adam,
        "rmsprop": clr_keras.RMSprop,
        "adagrad": clr_keras.Adagrad,
        "adadelta": clr_keras.Adadelta,
    }
    if "momentum" in settings:
        settings["momentum"] = momentum  # 0.9, or 1cycle's schedule
    return kinds[optimizer_name](
        learning_rate=learning_rate, lr_multipliers=lr_multipliers, **settings
    )


def run_experiment(
    policy_name: str,
    preset: str = "quick",
    source: str | None = None,
    out: str | os.PathLike = "runs",
    seed: int = 0,
    verbose: int = 1,
    stop_after: int | None = None,
    optimizer_name: str = "sgd",
    on_evaluation: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """Train ``cifar10_full`` with ``policy_name`` under ``preset``; resume if a checkpoint exists.

    Args:
        policy_name: one of ``protocol.RUNNABLE``: a Table 1 policy, an ablation
            (``protocol.ABLATIONS``) or, with another optimizer, a Table 3 row.
        preset: ``"paper"``, ``"quick"`` or ``"smoke"``.
        source: CIFAR-10 as for :func:`clr.cifar10.data.load_cifar10` (None: ``CLR_CIFAR10`` or
            Keras' download), or ``"synthetic"`` for the generated stand-in (labelled so
            everywhere).
        out: results folder; files go to ``out/preset/seedN/policy_name.*``.
        seed: seeds the weights, the batch order and the subsets.
        verbose: 1 shows Keras' progress bar and a line per evaluation; 0 is silent.
        stop_after: stop (resumably) after this many iterations in this call (>= 1); for tests
            and for sharing a machine.
        optimizer_name: ``"sgd"`` (momentum 0.9, Table 1) or another of the paper's Table 3
            (``protocol.OPTIMIZERS``: nesterov, adam, rmsprop, adagrad, adadelta), with its
            bounds; those run ``fixed`` and ``triangular``.
        on_evaluation: called with each evaluation's row (and ``total``) after it is saved;
            the grid reports progress with it.

    Returns:
        The CSV's path.

    Raises:
        RunError: when the files there belong to another run (never overwritten).
    """
    check_choice("policy_name", policy_name, RUNNABLE)
    check_choice("preset", preset, tuple(PRESETS))
    check_choice("optimizer_name", optimizer_name, tuple(OPTIMIZERS))
    seed = check_int("seed", seed, low=0)
    if stop_after is not None:
        stop_after = check_int("stop_after", stop_after, low=1)
    policy_schedule(policy_name, PRESETS[preset].scale, optimizer_name)  # checks the pair
    csv_path = run_paths(out, preset, seed, policy_name, optimizer_name)["csv"]
    with RunLock(csv_path.with_suffix(".lock")), _NoticeInterrupts() as interrupts:
        return _run_locked(
            policy_name, preset, source, out, seed, verbose, stop_after, optimizer_name,
            on_evaluation, interrupts,
        )  # fmt: skip


def _run_locked(
    policy_name: str,
    preset: str,
    source: str | None,
    out: str | os.PathLike,
    seed: int,
    verbose: int,
    stop_after: int | None,
    optimizer_name: str,
    on_evaluation: Callable[[dict[str, Any]], None] | None,
    interrupts: _NoticeInterrupts,
) -> Path:
    """:func:`run_experiment` once it holds the run's lock."""
    protocol = PRESETS[preset]
    schedule, total, settings = policy_schedule(policy_name, protocol.scale, optimizer_name)
    paths = run_paths(out, preset, seed, policy_name, optimizer_name)
    csv_path, ckpt, meta_path = paths["csv"], paths["checkpoint"], paths["provenance"]
    data = _load_data(source, protocol, seed)
    optimizer_args = [] if optimizer_name == "sgd" else ["--optimizer", optimizer_name]
    arguments = [
        policy_name,
        "--preset",
        preset,
        "--seed",
        str(seed),
        *optimizer_args,
        "--out",
        str(out),
    ]
    provenance: dict[str, Any] = {
        "command": _command(*arguments, source=source),
        "policy_name": policy_name,
        "optimizer_name": optimizer_name,
        "preset": dataclasses.asdict(protocol),
        "settings": settings,
        "seed": seed,
        "data": {"description": data.description, **_data_identity(data)},
    }
    state, rows = _decide(paths, provenance, total, protocol.eval_every)
    if state == "done":
        if verbose:
            print(f"{policy_name} ({preset}, seed {seed}) is complete: {csv_path}")
        return csv_path

    import keras

    from .. import keras as clr_keras
    from .models import caffe_lr_multipliers, cifar10_full

    csv_path.parent.mkdir(parents=True, exist_ok=True)
    if state == "resume":
        before = read_provenance(meta_path)
        provenance["started"], elapsed = before["started"], float(before["elapsed_s"])
        provenance["sessions"] = before["sessions"]
        model = _load_checkpoint(ckpt)
        iteration = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        if iteration not in [r["iteration"] for r in rows]:
            raise RunError(
                f"{ckpt} holds iteration {iteration:,}, which {csv_path.name} does not hold; the "
                "files disagree and are left as they are."
            )
        rows = [r for r in rows if r["iteration"] <= iteration]  # later rows are recomputed
        if verbose:
            print(
                f"resuming {policy_name} ({preset}, seed {seed}) at iteration {iteration:,} of "
                f"{total:,} from {ckpt}"
            )
    else:
        provenance["started"], provenance["sessions"], elapsed, iteration = _now(), [], 0.0, 0
        keras.utils.set_random_seed(seed)
        model = cifar10_full(seed=seed)
        model.build((None, 32, 32, 3))
        optimizer = _optimizer(
            optimizer_name,
            clr_keras.PolicySchedule(schedule),
            policy_momentum(policy_name, protocol.scale),
            caffe_lr_multipliers(model),
        )
        model.compile(
            optimizer,
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        # Its slots now, so that even the iteration-0 checkpoint holds the whole optimizer.
        optimizer.build(model.trainable_variables)
    # One entry per invocation, written before any training: a run resumed across sessions
    # says which code ran which part, and a resume under other protocol code says so.
    fingerprint = protocol_fingerprint()
    changed = _protocol_changes(provenance["sessions"], fingerprint)
    session = {"from_iteration": iteration, "date": _now(), **_code_revision()}
    session["protocol"] = fingerprint
    if changed:
        session["protocol_changed"] = changed
        print(
            f"warning: {policy_name} (seed {seed}) resumes at iteration {iteration:,} under "
            f"code whose protocol files differ from the last session's ({', '.join(changed)}); "
            f"recorded in {meta_path.name}",
            file=sys.stderr,
        )
    provenance["sessions"].append(session)
    provenance["versions"] = _versions()
    provenance["machine"] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    provenance.update(iteration=iteration, elapsed_s=elapsed, updated=_now())
    write_atomic(meta_path, json.dumps(provenance, indent=1) + "\n")
    if verbose:
        print(
            f"{policy_name} on {data.description}: {total:,} iterations, batch "
            f"{protocol.batch_size}, "
            f"test every {protocol.eval_every}"
        )
    identity = {
        "policy_name": policy_name,
        "optimizer_name": optimizer_name,
        "preset": preset,
        "seed": seed,
    }

    def evaluate_and_save(train_loss: float) -> None:
        test_loss, test_accuracy = model.evaluate(
            data.x_test, data.y_test, batch_size=500, verbose=0
        )[:2]
        row = {
            "iteration": iteration,
            "lr": float(schedule(max(iteration - 1, 0))),
            "train_loss": train_loss,
            "test_loss": float(test_loss),
            "test_accuracy": float(test_accuracy),
            "elapsed_s": round(elapsed, 1),
        }
        # The CSV first, then the checkpoint, then the provenance, each replaced whole: a
        # fault between two of them leaves the CSV ahead, and the resume redoes that row.
        write_rows(csv_path, [*rows, row])
        rows.append(row)
        _save_checkpoint(model, ckpt, {**identity, "iteration": iteration})
        provenance.update(elapsed_s=elapsed, iteration=iteration, updated=_now())
        write_atomic(meta_path, json.dumps(provenance, indent=1) + "\n")
        if on_evaluation is not None:
            on_evaluation({**row, "total": total})
        if verbose:
            print(
                f"  iteration {iteration:>6,}  lr {row['lr']:.6f}  train loss {train_loss:.4f}  "
                f"test loss {test_loss:.4f}  test accuracy {test_accuracy:.4f}",
                flush=True,
            )

    try:
        if not rows:
            evaluate_and_save(float("nan"))
        end = total if stop_after is None else min(total, iteration + stop_after)
        while iteration < end:
            chunk = min(protocol.eval_every - iteration % protocol.eval_every, end - iteration)
            progress = keras.utils.Progbar(chunk, verbose=verbose)
            losses = []
            t0 = time.perf_counter()
            # One train_on_batch per step rather than fit(): fit's tf.data pipeline starts
            # autotuned threads that compete with the convolutions on a small CPU
            # (bench/bench_training_loop.py measures both).
            for i in range(chunk):
                # Caffe reads its database in one order every epoch, without shuffling.
                idx = batch_indices(
                    iteration + i, len(data.x_train), protocol.batch_size, seed, reshuffle=False
                )
                logs = model.train_on_batch(data.x_train[idx], data.y_train[idx], return_dict=True)
                losses.append(float(logs["loss"]))
                progress.update(i + 1, [("loss", losses[-1])])
                interrupts.check()
            elapsed += time.perf_counter() - t0
            iteration += chunk
            if iteration % protocol.eval_every == 0 or iteration == total:
                evaluate_and_save(float(np.mean(losses)))
        interrupts.check()  # one dropped during the last evaluation
    except KeyboardInterrupt as interrupt:
        saved = rows[-1]["iteration"] if rows else 0
        signum = getattr(interrupt, "signum", signal.SIGINT)
        raise RunInterrupted(
            f"{policy_name} (seed {seed}) interrupted by {signal.Signals(signum).name} at "
            f"iteration {iteration:,} of {total:,}; its files hold every evaluation up to "
            f"iteration {saved:,}: run the same command to resume",
            signum,
            saved,
        ) from None
    return csv_path


def _save_checkpoint(model: Any, ckpt: Path, meta: dict[str, Any]) -> None:
    """The model and its optimizer, with the run it belongs to, replaced atomically."""
    tmp = ckpt.with_name(ckpt.stem + ".tmp.keras")
    try:
        model.save(tmp)
        add_checkpoint_meta(tmp, meta)
        os.replace(tmp, ckpt)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise io_error(ckpt, err) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _load_checkpoint(ckpt: Path) -> Any:
    """The checkpoint's model, loaded in Keras' safe mode (no arbitrary code), or one line."""
    import keras

    try:
        return keras.models.load_model(ckpt, safe_mode=True)
    except Exception as err:
        reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise RunError(
            f"{ckpt} cannot be loaded as this run's checkpoint ({reason}); it is left as it is: "
            "move it away, or restore it, to resume."
        ) from None


RANGE_TEST = {  # the paper's Figure 3: a linear sweep over 8 epochs, accuracy on held-out data
    "paper": dict(start_lr=1e-5, end_lr=0.02, epochs=8, n_val=2000, evaluations=40),
    "quick": dict(start_lr=1e-5, end_lr=0.02, epochs=8, n_val=1000, evaluations=40),
    "smoke": dict(start_lr=1e-5, end_lr=0.02, epochs=2, n_val=200, evaluations=10),
}


def run_range_test(
    preset: str = "quick",
    source: str | None = None,
    out: str | os.PathLike = "runs",
    seed: int = 0,
    verbose: int = 1,
) -> Path:
    """Smith's LR range test on ``cifar10_full`` (a linear sweep from 0 to 0.02 over 8 epochs,
    validation accuracy on held-out test images) with the preset's data; writes
    ``out/preset/range_test.json`` and its provenance beside it."""
    import keras

    from ..range_test import lr_range_test
    from .models import cifar10_full

    check_choice("preset", preset, tuple(PRESETS))
    protocol, settings = PRESETS[preset], RANGE_TEST[preset]
    folder = Path(out) / preset
    path = folder / "range_test.json"
    if path.exists():
        raise RunError(
            f"{path} exists and is left as it is; use another --out to run the range test again."
        )
    data = _load_data(source, protocol, seed)
    model = cifar10_full(seed=seed)
    model.compile(
        keras.optimizers.SGD(learning_rate=0.001, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    iterations = round(settings["epochs"] * math.ceil(len(data.x_train) / protocol.batch_size))
    val = (data.x_test[: settings["n_val"]], data.y_test[: settings["n_val"]])
    if verbose:
        print(
            f"LR range test on {data.description}: linear {settings['start_lr']:g} to "
            f"{settings['end_lr']:g} over {iterations:,} iterations"
        )
    t0 = time.perf_counter()
    result = lr_range_test(
        model,
        data.x_train,
        data.y_train,
        start_lr=settings["start_lr"],
        end_lr=settings["end_lr"],
        iterations=iterations,
        sweep="linear",
        batch_size=protocol.batch_size,
        validation_data=val,
        eval_every=max(1, iterations // settings["evaluations"]),
        seed=seed,
        verbose=verbose,
    )
    folder.mkdir(parents=True, exist_ok=True)
    result.save(path)
    provenance = {
        "command": _command(
            "range_test", "--preset", preset, "--seed", str(seed), "--out", str(out), source=source
        ),
        "settings": settings,
        "batch_size": protocol.batch_size,
        "iterations": iterations,
        "seed": seed,
        "data": {"description": data.description, **_data_identity(data)},
        "versions": _versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "date": _now(),
    }
    write_atomic(folder / "range_test.provenance.json", json.dumps(provenance, indent=1) + "\n")
    return path
