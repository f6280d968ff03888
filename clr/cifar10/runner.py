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
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._batches import batch_indices
from .._checks import check_choice, check_int
from .data import Cifar10, load_cifar10, preprocess, synthetic_cifar10
from .interrupts import NoticeInterrupts, RunInterrupted
from .protocol import OPTIMIZERS, PRESETS, RUNNABLE, Protocol, policy_momentum, policy_schedule
from .provenance import (
    code_revision,
    command,
    data_identity,
    machine,
    now,
    protocol_changes,
    protocol_fingerprint,
    versions,
)
from .results import run_paths
from .runfiles import (
    RunError,
    RunLock,
    add_checkpoint_meta,
    decide,
    io_error,
    read_provenance,
    write_atomic,
    write_rows,
)

__all__ = [
    "RunError",
    "RunInterrupted",
    "run_experiment",
    "import_keras_quietly",
]


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


# -- data and the optimizer ---------------------------------------------------------------


def _load_data(source: str | None, protocol: Protocol, seed: int) -> Cifar10:
    if source == "synthetic":
        raw = synthetic_cifar10(protocol.n_train or 5000, protocol.n_test or 1000, seed=seed)
    else:
        raw = load_cifar10(source)
    return preprocess(raw, seed=seed, n_train=protocol.n_train, n_test=protocol.n_test)


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


# -- one run ---------------------------------------------------------------------------------


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
    with RunLock(csv_path.with_suffix(".lock")), NoticeInterrupts() as interrupts:
        return _run_locked(
            policy_name, preset, source, out, seed, verbose, stop_after, optimizer_name,
            on_evaluation, interrupts,
        )  # fmt: skip


@dataclasses.dataclass
class _Run:
    """One run, held while its lock is: what it trains (fixed at planning) and where it has got
    to (the model, the CSV's rows, the iteration and the training seconds so far)."""

    policy_name: str
    preset: str
    seed: int
    optimizer_name: str
    protocol: Protocol
    schedule: Any
    total: int
    paths: dict[str, Path]
    data: Cifar10
    provenance: dict[str, Any]
    verbose: int
    on_evaluation: Callable[[dict[str, Any]], None] | None
    model: Any = None
    rows: list[dict[str, float]] = dataclasses.field(default_factory=list)
    iteration: int = 0
    elapsed: float = 0.0

    @classmethod
    def plan(
        cls,
        policy_name: str,
        preset: str,
        source: str | None,
        out: str | os.PathLike,
        seed: int,
        optimizer_name: str,
        verbose: int,
        on_evaluation: Callable[[dict[str, Any]], None] | None,
    ) -> _Run:
        """The policy's schedule, the data and the provenance that identifies the run."""
        protocol = PRESETS[preset]
        schedule, total, settings = policy_schedule(policy_name, protocol.scale, optimizer_name)
        data = _load_data(source, protocol, seed)
        optimizer_args = [] if optimizer_name == "sgd" else ["--optimizer", optimizer_name]
        arguments = [policy_name, "--preset", preset, "--seed", str(seed), *optimizer_args,
                     "--out", str(out)]  # fmt: skip
        provenance: dict[str, Any] = {
            "command": command(*arguments, source=source),
            "policy_name": policy_name,
            "optimizer_name": optimizer_name,
            "preset": dataclasses.asdict(protocol),
            "settings": settings,
            "seed": seed,
            "data": {"description": data.description, **data_identity(data)},
        }
        paths = run_paths(out, preset, seed, policy_name, optimizer_name)
        return cls(policy_name, preset, seed, optimizer_name, protocol, schedule, total, paths,
                   data, provenance, verbose, on_evaluation)  # fmt: skip

    @property
    def name(self) -> str:
        return f"{self.policy_name} (seed {self.seed})"

    def start(self) -> None:
        """A new model and optimizer, seeded, with the optimizer's slots built."""
        import keras

        from .. import keras as clr_keras
        from .models import caffe_lr_multipliers, cifar10_full

        self.provenance["started"], self.provenance["sessions"] = now(), []
        keras.utils.set_random_seed(self.seed)
        model = cifar10_full(seed=self.seed)
        model.build((None, 32, 32, 3))
        optimizer = _optimizer(
            self.optimizer_name,
            clr_keras.PolicySchedule(self.schedule),
            policy_momentum(self.policy_name, self.protocol.scale),
            caffe_lr_multipliers(model),
        )
        model.compile(
            optimizer,
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        # Its slots now, so that even the iteration-0 checkpoint holds the whole optimizer.
        optimizer.build(model.trainable_variables)
        self.model = model

    def resume(self) -> None:
        """The checkpoint's model at its iteration; the CSV's later rows are dropped (redone)."""
        import keras

        ckpt, csv_path = self.paths["checkpoint"], self.paths["csv"]
        before = read_provenance(self.paths["provenance"])
        self.provenance["started"] = before["started"]
        self.provenance["sessions"] = before["sessions"]
        self.elapsed = float(before["elapsed_s"])
        self.model = _load_checkpoint(ckpt)
        self.iteration = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        if self.iteration not in [r["iteration"] for r in self.rows]:
            raise RunError(
                f"{ckpt} holds iteration {self.iteration:,}, which {csv_path.name} does not hold; "
                "the files disagree and are left as they are."
            )
        self.rows = [r for r in self.rows if r["iteration"] <= self.iteration]
        if self.verbose:
            print(
                f"resuming {self.policy_name} ({self.preset}, seed {self.seed}) at iteration "
                f"{self.iteration:,} of {self.total:,} from {ckpt}"
            )

    def begin_session(self) -> None:
        """One entry per invocation, written before any training: a run resumed across sessions
        says which code ran which part, and a resume under other protocol code says so."""
        meta_path = self.paths["provenance"]
        fingerprint = protocol_fingerprint()
        changed = protocol_changes(self.provenance["sessions"], fingerprint)
        session = {"from_iteration": self.iteration, "date": now(), **code_revision()}
        session["protocol"] = fingerprint
        if changed:
            session["protocol_changed"] = changed
            print(
                f"warning: {self.name} resumes at iteration {self.iteration:,} under code whose "
                f"protocol files differ from the last session's ({', '.join(changed)}); "
                f"recorded in {meta_path.name}",
                file=sys.stderr,
            )
        self.provenance["sessions"].append(session)
        self.provenance["versions"] = versions()
        self.provenance["machine"] = machine()
        self._write_provenance()
        if self.verbose:
            print(
                f"{self.policy_name} on {self.data.description}: {self.total:,} iterations, "
                f"batch {self.protocol.batch_size}, test every {self.protocol.eval_every}"
            )

    def _write_provenance(self) -> None:
        self.provenance.update(iteration=self.iteration, elapsed_s=self.elapsed, updated=now())
        write_atomic(self.paths["provenance"], json.dumps(self.provenance, indent=1) + "\n")

    def evaluate_and_save(self, train_loss: float) -> None:
        """The test set's loss and accuracy now, appended to the CSV; then the checkpoint and
        the provenance. Each file is replaced whole, the CSV first: a fault between two of them
        leaves the CSV ahead, and the resume redoes that row."""
        test_loss, test_accuracy = self.model.evaluate(
            self.data.x_test, self.data.y_test, batch_size=500, verbose=0
        )[:2]
        row = {
            "iteration": self.iteration,
            "lr": float(self.schedule(max(self.iteration - 1, 0))),
            "train_loss": train_loss,
            "test_loss": float(test_loss),
            "test_accuracy": float(test_accuracy),
            "elapsed_s": round(self.elapsed, 1),
        }
        write_rows(self.paths["csv"], [*self.rows, row])
        self.rows.append(row)
        identity = {
            "policy_name": self.policy_name,
            "optimizer_name": self.optimizer_name,
            "preset": self.preset,
            "seed": self.seed,
            "iteration": self.iteration,
        }
        _save_checkpoint(self.model, self.paths["checkpoint"], identity)
        self._write_provenance()
        if self.on_evaluation is not None:
            self.on_evaluation({**row, "total": self.total})
        if self.verbose:
            print(
                f"  iteration {self.iteration:>6,}  lr {row['lr']:.6f}  train loss "
                f"{train_loss:.4f}  test loss {test_loss:.4f}  test accuracy {test_accuracy:.4f}",
                flush=True,
            )

    def train(self, stop_after: int | None, interrupts: NoticeInterrupts) -> None:
        """Train to the end (or ``stop_after`` more iterations), evaluating every
        ``eval_every``; a Ctrl-C or SIGTERM becomes :class:`RunInterrupted`."""
        import keras

        protocol = self.protocol
        try:
            if not self.rows:
                self.evaluate_and_save(float("nan"))
            end = self.total if stop_after is None else min(self.total, self.iteration + stop_after)
            while self.iteration < end:
                chunk = min(protocol.eval_every - self.iteration % protocol.eval_every,
                            end - self.iteration)  # fmt: skip
                progress = keras.utils.Progbar(chunk, verbose=self.verbose)
                losses = []
                t0 = time.perf_counter()
                # One train_on_batch per step rather than fit(): fit's tf.data pipeline starts
                # autotuned threads that compete with the convolutions on a small CPU
                # (bench/bench_training_loop.py measures both).
                for i in range(chunk):
                    # Caffe reads its database in one order every epoch, without shuffling.
                    idx = batch_indices(
                        self.iteration + i,
                        len(self.data.x_train),
                        protocol.batch_size,
                        self.seed,
                        reshuffle=False,
                    )
                    logs = self.model.train_on_batch(
                        self.data.x_train[idx], self.data.y_train[idx], return_dict=True
                    )
                    losses.append(float(logs["loss"]))
                    progress.update(i + 1, [("loss", losses[-1])])
                    interrupts.check()
                self.elapsed += time.perf_counter() - t0
                self.iteration += chunk
                if self.iteration % protocol.eval_every == 0 or self.iteration == self.total:
                    self.evaluate_and_save(float(np.mean(losses)))
            interrupts.check()  # one dropped during the last evaluation
        except KeyboardInterrupt as interrupt:
            saved = self.rows[-1]["iteration"] if self.rows else 0
            signum = getattr(interrupt, "signum", signal.SIGINT)
            raise RunInterrupted(
                f"{self.name} interrupted by {signal.Signals(signum).name} at iteration "
                f"{self.iteration:,} of {self.total:,}; its files hold every evaluation up to "
                f"iteration {saved:,}: run the same command to resume",
                signum,
                saved,
            ) from None


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
    interrupts: NoticeInterrupts,
) -> Path:
    """:func:`run_experiment` once it holds the run's lock: plan, decide from the files, start
    or resume, record the session, train."""
    run = _Run.plan(policy_name, preset, source, out, seed, optimizer_name, verbose, on_evaluation)
    state, run.rows = decide(run.paths, run.provenance, run.total, run.protocol.eval_every)
    if state == "done":
        if verbose:
            print(f"{policy_name} ({preset}, seed {seed}) is complete: {run.paths['csv']}")
        return run.paths["csv"]
    run.paths["csv"].parent.mkdir(parents=True, exist_ok=True)
    if state == "resume":
        run.resume()
    else:
        run.start()
    run.begin_session()
    run.train(stop_after, interrupts)
    return run.paths["csv"]


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

    # What the checkpoint names must be registered first: clr's optimizer and schedule, and
    # the network's own layer (WithinChannelLRN).
    from .. import keras as _clr_keras  # noqa: F401
    from . import models  # noqa: F401

    try:
        return keras.models.load_model(ckpt, safe_mode=True)
    except Exception as err:
        reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise RunError(
            f"{ckpt} cannot be loaded as this run's checkpoint ({reason}); it is left as it is: "
            "move it away, or restore it, to resume."
        ) from None
