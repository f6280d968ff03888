"""The paper's CIFAR-10 comparison (Table 1): one policy, one protocol, resumable.

    python -m clr.experiments triangular2 --preset quick [--data PATH|synthetic] [--out results]

Every evaluation appends a row to ``OUT/PRESET/POLICY.csv`` (iteration, lr, train loss, test
loss, test accuracy, elapsed seconds) and saves a checkpoint beside it. Started again with the
same arguments, a killed run resumes from its last checkpoint: rows written after that
checkpoint are dropped and recomputed, so the CSV holds every evaluation exactly once, and
the batch order is a function of the iteration, so the resumed run sees the same batches.

Presets are the paper's protocol scaled: ``paper`` (batch 100, the paper's iteration counts,
the whole test set every 1,000 iterations), ``quick`` (1/50 of the iterations on a 10,000-image
subset: a workshop comparison of a few minutes per policy on a laptop CPU) and ``smoke``
(1/1000, seconds, for tests). Scaling divides iteration counts, step sizes and boundaries by
the factor and raises gamma to its power, so every curve keeps its shape.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as _dt
import functools
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import __version__
from ._policies import CyclicPolicy
from ._schedules import constant, exponential, join, linear
from .data import Cifar10, load_cifar10, preprocess, synthetic_cifar10

__all__ = [
    "PRESETS", "POLICIES", "PAPER_TABLE1", "Protocol", "policy_schedule", "run_experiment", "read_results",
    "iterations_to_reach", "load_comparison", "results_dir", "comparison_table", "format_table", "main",
]  # fmt: skip

# Smith 2017, Table 1, CIFAR-10 rows: policy -> (iterations, test accuracy %).
PAPER_TABLE1 = {
    "fixed": (70_000, 81.4),
    "triangular2": (25_000, 81.4),
    "decay": (25_000, 78.5),
    "exp": (70_000, 79.1),
    "exp_range": (42_000, 82.2),
}
POLICIES = ("fixed", "triangular", "triangular2", "exp_range", "exp", "decay")
COLUMNS = ("iteration", "lr", "train_loss", "test_loss", "test_accuracy", "elapsed_s")


@dataclasses.dataclass(frozen=True)
class Protocol:
    name: str
    scale: float  # iterations relative to the paper's
    batch_size: int
    eval_every: int
    n_train: int | None  # None: the whole training set
    n_test: int | None


PRESETS = {
    "paper": Protocol("paper", 1.0, 100, 1000, None, None),
    "quick": Protocol("quick", 1 / 50, 100, 50, 10_000, 2_000),
    "smoke": Protocol("smoke", 1 / 1000, 20, 10, 500, 200),
}


def policy_schedule(policy: str, scale: float = 1.0) -> tuple[Callable[[Any], Any], int, dict[str, Any]]:
    """The learning rate of ``policy`` as a function of the iteration, its iteration count,
    and its settings, for the paper's protocol scaled by ``scale``.

    fixed: 0.001, then 1e-4 at 60k and 1e-5 at 65k, stop at 70k (Caffe's cifar10_full solvers).
    triangular: 0.001-0.006, step 2000, 24k iterations (6 cycles, ending at base_lr).
    triangular2: the paper's Table 2: three phases joined by resets, 25k iterations.
    exp_range: 0.001-0.006, step 2000, gamma 0.99994, 42k. exp: 0.001 * 0.99994**i, 70k.
    decay: 0.007 down to 0.001 over 4000 iterations, then 0.001, 25k.
    """
    if policy not in POLICIES:
        raise ValueError(f"`policy` must be one of {POLICIES}. Received: policy={policy!r}")
    if not (0 < scale <= 1):
        raise ValueError(f"`scale` must be in (0, 1]. Received: scale={scale!r}")
    n = lambda iterations: max(1, round(iterations * scale))  # noqa: E731
    gamma = 0.99994 ** (1 / scale)
    if policy == "fixed":
        settings = dict(lrs=[0.001, 0.0001, 0.00001], boundaries=[n(60_000), n(65_000)], iterations=n(70_000))
        schedule = join([constant(lr) for lr in settings["lrs"]], settings["boundaries"])
    elif policy == "triangular":
        settings = dict(base_lr=0.001, max_lr=0.006, step_size=2000 * scale, iterations=n(24_000))
        schedule = CyclicPolicy(settings["base_lr"], settings["max_lr"], settings["step_size"])
    elif policy == "triangular2":
        phases = [(0.001, 0.005, 2000), (0.0001, 0.0005, 1000), (0.00001, 0.00005, 500)]
        settings = dict(phases=[dict(base_lr=b, max_lr=m, step_size=s * scale) for b, m, s in phases],
                        boundaries=[n(16_000), n(22_000)], iterations=n(25_000))  # fmt: skip
        schedule = join([CyclicPolicy(mode="triangular2", **p) for p in settings["phases"]], settings["boundaries"])
    elif policy == "exp_range":
        settings = dict(base_lr=0.001, max_lr=0.006, step_size=2000 * scale, gamma=gamma, iterations=n(42_000))
        schedule = CyclicPolicy(0.001, 0.006, settings["step_size"], mode="exp_range", gamma=gamma)
    elif policy == "exp":
        settings = dict(base_lr=0.001, gamma=gamma, iterations=n(70_000))
        schedule = exponential(0.001, gamma)
    else:  # decay
        settings = dict(max_lr=0.007, base_lr=0.001, step_size=4000 * scale, iterations=n(25_000))
        schedule = linear(0.007, 0.001, settings["step_size"])
    return schedule, settings["iterations"], settings


# -- data and batches ----------------------------------------------------------------------


def _load_data(source: str | None, protocol: Protocol, seed: int) -> Cifar10:
    if source == "synthetic":
        raw = synthetic_cifar10(protocol.n_train or 5000, protocol.n_test or 1000, seed=seed)
    else:
        raw = load_cifar10(source)
    return preprocess(raw, seed=seed, n_train=protocol.n_train, n_test=protocol.n_test)


@functools.lru_cache(maxsize=1)  # one epoch's order, reused for all its batches
def _epoch_order(seed: int, epoch: int, n_train: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n_train)


def _batch_indices(iteration: int, n_train: int, batch_size: int, seed: int) -> np.ndarray:
    """The training examples of global iteration ``iteration``: a seeded permutation per
    epoch, so a resumed run sees exactly the batches an uninterrupted one would."""
    epoch, b = divmod(iteration, n_train // batch_size)
    return _epoch_order(seed, epoch, n_train)[b * batch_size : (b + 1) * batch_size]


# -- results files ---------------------------------------------------------------------------


def read_results(csv_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A results CSV as columns of numbers."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {c: np.array([float(r[c]) for r in rows]) for c in COLUMNS}


def _keep_rows_up_to(csv_path: Path, iteration: int) -> None:
    with csv_path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["iteration"]) <= iteration]
    tmp = csv_path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, csv_path)


def _append_row(csv_path: Path, row: dict[str, Any]) -> None:
    new = not csv_path.exists()
    with csv_path.open("a", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
        f.flush()
        os.fsync(f.fileno())


def _versions() -> dict[str, str]:
    import keras

    versions = {"python": platform.python_version(), "numpy": np.__version__, "keras": keras.__version__, "clr": __version__}
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:
        pass
    versions["backend"] = keras.backend.backend()
    return versions


def _code_revision() -> str | None:
    """The git commit of this checkout (``+dirty`` with uncommitted changes to ``clr/``), or
    None outside a git checkout: which code produced a result."""
    package = Path(__file__).resolve().parent
    try:
        git = lambda *args: subprocess.run(["git", *args], cwd=package, capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # noqa: E731
        revision = git("rev-parse", "--short=12", "HEAD")
        return revision + ("+dirty" if git("status", "--porcelain", "--", ".") else "")
    except (OSError, subprocess.SubprocessError):
        return None


# -- the run -----------------------------------------------------------------------------------


def run_experiment(
    policy: str,
    preset: str = "quick",
    source: str | None = None,
    out: str | os.PathLike = "results",
    seed: int = 0,
    verbose: int = 1,
    stop_after: int | None = None,
) -> Path:
    """Train ``cifar10_full`` with ``policy`` under ``preset``; resume if a checkpoint exists.

    Args:
        policy: one of ``POLICIES``.
        preset: ``"paper"``, ``"quick"`` or ``"smoke"``.
        source: CIFAR-10 as for :func:`clr.data.load_cifar10` (None: ``CLR_CIFAR10`` or Keras'
            download), or ``"synthetic"`` for the generated stand-in (labelled so everywhere).
        out: results folder; files go to ``out/preset/policy.*``.
        seed: seeds the weights, the shuffling and the subsets.
        verbose: 1 shows Keras' progress bar and a line per evaluation; 0 is silent.
        stop_after: stop (resumably) after this many iterations in this call; for tests and
            for sharing a machine.

    Returns:
        The CSV's path.
    """
    import keras

    from .models import cifar10_full

    if preset not in PRESETS:
        raise ValueError(f"`preset` must be one of {tuple(PRESETS)}. Received: preset={preset!r}")
    protocol = PRESETS[preset]
    schedule, total, settings = policy_schedule(policy, protocol.scale)
    folder = Path(out) / preset
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, ckpt, meta_path = (folder / f"{policy}{ext}" for ext in (".csv", ".checkpoint.keras", ".json"))

    data = _load_data(source, protocol, seed)
    provenance = {
        "command": "python -m clr.experiments " + shlex.join([policy, "--preset", preset, "--seed", str(seed), "--out", str(out)] + (["--data", str(source)] if source else [])),
        "policy": policy, "preset": dataclasses.asdict(protocol), "settings": settings, "seed": seed,
        "data": {"description": data.description, "source": data.source, "sha256": data.sha256, "synthetic": data.synthetic,
                 "n_train": len(data.x_train), "n_test": len(data.x_test)},
    }  # fmt: skip
    if meta_path.exists() and ckpt.exists():
        before = json.loads(meta_path.read_text())
        for key in ("policy", "preset", "settings", "seed"):
            if before[key] != json.loads(json.dumps(provenance[key])):
                raise ValueError(f"{folder} holds a {policy} run with other `{key}` ({before[key]!r}); use another --out.")
        if before["data"]["source"] != data.source or before["data"]["sha256"] != data.sha256:
            raise ValueError(f"{folder} holds a {policy} run on other data ({before['data']['source']}); use another --out.")
        provenance["started"], elapsed = before["started"], before["elapsed_s"]
        provenance["sessions"] = before.get("sessions", [])
        model = keras.models.load_model(ckpt)
        iteration = int(model.optimizer.iterations)
        _keep_rows_up_to(csv_path, iteration)
        if verbose:
            print(f"resuming {policy} ({preset}) at iteration {iteration:,} of {total:,} from {ckpt}")
    else:
        for stale in (csv_path, ckpt):
            stale.unlink(missing_ok=True)
        provenance["started"], elapsed, iteration = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), 0.0, 0
        provenance["sessions"] = []
        model = cifar10_full(seed=seed)
        model.compile(
            keras.optimizers.SGD(learning_rate=float(schedule(0)), momentum=0.9),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        model.build((None, 32, 32, 3))
    # One entry per invocation: a run resumed across sessions says which code ran which part.
    provenance["sessions"].append({"from_iteration": iteration, "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "code": _code_revision()})
    provenance.update(versions=_versions(), machine={"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()})  # fmt: skip
    if verbose:
        print(f"{policy} on {data.description}: {total:,} iterations, batch {protocol.batch_size}, test every {protocol.eval_every}")

    def evaluate_and_save(train_loss: float) -> None:
        test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=500, verbose=0)
        row = dict(iteration=iteration, lr=float(schedule(max(iteration - 1, 0))), train_loss=train_loss,
                   test_loss=float(test_loss), test_accuracy=float(test_accuracy), elapsed_s=round(elapsed, 1))  # fmt: skip
        _append_row(csv_path, row)  # row first, then checkpoint: a kill between them redoes the row
        tmp = ckpt.with_name(ckpt.stem + ".tmp.keras")
        model.save(tmp)
        os.replace(tmp, ckpt)
        provenance.update(elapsed_s=elapsed, iteration=iteration, updated=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        meta_path.write_text(json.dumps(provenance, indent=1) + "\n")
        if verbose:
            print(f"  iteration {iteration:>6,}  lr {row['lr']:.6f}  train loss {train_loss:.4f}  test loss {test_loss:.4f}  test accuracy {test_accuracy:.4f}", flush=True)

    if iteration == 0 and not csv_path.exists():
        evaluate_and_save(float("nan"))
    end = total if stop_after is None else min(total, iteration + stop_after)
    while iteration < end:
        chunk = min(protocol.eval_every - iteration % protocol.eval_every, end - iteration)
        progress = keras.utils.Progbar(chunk, verbose=verbose, stateful_metrics=["lr"])
        losses = []
        t0 = time.perf_counter()
        # One train_on_batch per step rather than fit(): fit's tf.data pipeline starts
        # autotuned threads that compete with the convolutions on a small CPU (x1.2 side by side in
        # bench/bench_training_loop.py; 5.2 vs 9.3 steps/s in our 2-core paper runs, together with
        # the LRN rewrite); it also sets the rate directly.
        for i in range(chunk):
            lr = float(schedule(iteration + i))
            model.optimizer.learning_rate = lr
            idx = _batch_indices(iteration + i, len(data.x_train), protocol.batch_size, seed)
            logs = model.train_on_batch(data.x_train[idx], data.y_train[idx], return_dict=True)
            losses.append(float(logs["loss"]))
            progress.update(i + 1, [("loss", losses[-1]), ("lr", lr)])
        elapsed += time.perf_counter() - t0
        iteration += chunk
        if iteration % protocol.eval_every == 0 or iteration == total:
            evaluate_and_save(float(np.mean(losses)))
    return csv_path


RANGE_TEST = {  # the paper's Figure 3: a linear sweep over 8 epochs, accuracy on held-out data
    "paper": dict(min_lr=1e-5, max_lr=0.02, epochs=8, n_val=2000, evaluations=40),
    "quick": dict(min_lr=1e-5, max_lr=0.02, epochs=8, n_val=1000, evaluations=40),
    "smoke": dict(min_lr=1e-5, max_lr=0.02, epochs=2, n_val=200, evaluations=10),
}


def run_range_test(preset: str = "quick", source: str | None = None, out: str | os.PathLike = "results", seed: int = 0, verbose: int = 1) -> Path:
    """Smith's LR range test on ``cifar10_full`` (a linear sweep from 0 to 0.02 over 8 epochs,
    validation accuracy on held-out test images) with the preset's data; writes
    ``out/preset/range_test.json`` and its provenance beside it."""
    import keras

    from .keras import lr_range_test
    from .models import cifar10_full

    protocol, settings = PRESETS[preset], RANGE_TEST[preset]
    data = _load_data(source, protocol, seed)
    model = cifar10_full(seed=seed)
    model.compile(keras.optimizers.SGD(learning_rate=0.001, momentum=0.9), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    iterations = round(settings["epochs"] * math.ceil(len(data.x_train) / protocol.batch_size))
    val = (data.x_test[: settings["n_val"]], data.y_test[: settings["n_val"]])
    if verbose:
        print(f"LR range test on {data.description}: linear {settings['min_lr']:g} to {settings['max_lr']:g} over {iterations:,} iterations")
    t0 = time.perf_counter()
    result = lr_range_test(model, data.x_train, data.y_train, min_lr=settings["min_lr"], max_lr=settings["max_lr"], iterations=iterations,
                           sweep="linear", batch_size=protocol.batch_size, validation_data=val,
                           eval_every=max(1, iterations // settings["evaluations"]), seed=seed, verbose=verbose)  # fmt: skip
    folder = Path(out) / preset
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "range_test.json"
    result.save(path)
    provenance = {
        "command": "python -m clr.experiments range_test " + shlex.join(["--preset", preset, "--seed", str(seed), "--out", str(out)] + (["--data", str(source)] if source else [])),
        "settings": settings, "batch_size": protocol.batch_size, "iterations": iterations, "seed": seed,
        "data": {"description": data.description, "source": data.source, "sha256": data.sha256, "synthetic": data.synthetic},
        "versions": _versions(), "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "elapsed_s": round(time.perf_counter() - t0, 1), "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }  # fmt: skip
    (folder / "range_test.provenance.json").write_text(json.dumps(provenance, indent=1) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clr.experiments", description=__doc__.split("\n\n")[0])
    parser.add_argument("policy", choices=(*POLICIES, "range_test"), help="a policy to train, or range_test for Smith's LR range test")
    parser.add_argument("--preset", choices=tuple(PRESETS), default="quick")
    parser.add_argument("--data", default=None, help="CIFAR-10 .npz, .tar.gz or folder; 'synthetic'; default: $CLR_CIFAR10 or Keras' download")
    parser.add_argument("--out", default="results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stop-after", type=int, default=None, help="stop (resumably) after this many iterations")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.policy == "range_test":
        path = run_range_test(args.preset, args.data, args.out, args.seed, verbose=0 if args.quiet else 1)
        print(f"results: {path}")
        return 0
    path = run_experiment(args.policy, args.preset, args.data, args.out, args.seed, verbose=0 if args.quiet else 1, stop_after=args.stop_after)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


# -- reading the comparison --------------------------------------------------------------------


def results_dir() -> Path:
    """Where the committed results are: ``$CLR_RESULTS``, else ``results/`` beside the
    package in this repository (notebooks in any folder find them the same way)."""
    return Path(os.environ.get("CLR_RESULTS") or Path(__file__).resolve().parents[1] / "results")



def iterations_to_reach(results: dict[str, np.ndarray], accuracy: float) -> int | None:
    """The first evaluated iteration whose test accuracy is >= ``accuracy`` (None if never)."""
    hits = np.flatnonzero(results["test_accuracy"] >= accuracy)
    return int(results["iteration"][hits[0]]) if hits.size else None


def load_comparison(folder: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """Every ``POLICY.csv`` in ``folder``, in the order of ``POLICIES``."""
    folder = Path(folder)
    return {p: read_results(folder / f"{p}.csv") for p in POLICIES if (folder / f"{p}.csv").exists()}


def comparison_table(results: dict[str, dict[str, np.ndarray]], scale: float = 1.0, baseline: str = "fixed") -> list[dict[str, Any]]:
    """Table 1 for our runs beside the paper's: per policy, the iterations run (in the paper's
    units, i.e. divided by ``scale``), the final test accuracy, the iterations needed to reach
    the baseline's final accuracy and their ratio to the baseline's iterations, and, read the
    other way, the iterations the baseline needed to reach this policy's final accuracy (which
    says how much faster a policy was even when it ends below the baseline)."""
    if baseline not in results:
        raise ValueError(f"`results` must include the baseline {baseline!r}. Received: {sorted(results)}")
    base = results[baseline]
    target, base_iterations = float(base["test_accuracy"][-1]), float(base["iteration"][-1])
    rows = []
    for policy, r in results.items():
        reach = iterations_to_reach(r, target)
        base_reach = iterations_to_reach(base, float(r["test_accuracy"][-1]))
        paper = PAPER_TABLE1.get(policy)
        rows.append({
            "policy": policy,
            "iterations": round(r["iteration"][-1] / scale),
            "accuracy": 100 * float(r["test_accuracy"][-1]),
            "to_baseline": None if reach is None else round(reach / scale),
            "ratio": None if reach is None else reach / base_iterations,
            "baseline_to_same": None if base_reach is None else round(base_reach / scale),
            "paper_iterations": paper[0] if paper else None,
            "paper_accuracy": paper[1] if paper else None,
        })  # fmt: skip
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """The comparison as an aligned text table."""
    head = (f"{'policy':12s} {'iterations':>10s} {'accuracy %':>10s} {'to reach fixed':>15s} {'ratio':>6s}"
            f" {'fixed reaches it at':>20s}   {'paper: iterations':>17s} {'accuracy %':>10s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        reach = "never" if r["to_baseline"] is None else f"{r['to_baseline']:,}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        base_reach = "never" if r["baseline_to_same"] is None else f"{r['baseline_to_same']:,}"
        paper_it = "-" if r["paper_iterations"] is None else f"{r['paper_iterations']:,}"
        paper_acc = "-" if r["paper_accuracy"] is None else f"{r['paper_accuracy']:.1f}"
        lines.append(f"{r['policy']:12s} {r['iterations']:>10,} {r['accuracy']:>10.1f} {reach:>15s} {ratio:>6s} {base_reach:>20s}   {paper_it:>17s} {paper_acc:>10s}")
    return "\n".join(lines)
