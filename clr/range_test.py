"""Smith's LR range test: the sweep (:func:`lr_range_test`, Keras), its result and suggestions.

The result, its suggestions, plot and files need numpy only (matplotlib to plot); the sweep
imports Keras when it runs, so ``import clr`` stays light.

Smith's rule reads accuracy: ``base_lr`` where accuracy starts to rise, ``max_lr`` where the
rise slows, becomes ragged or falls. The loss rules are fastai's: ``valley``, ``steep`` and
``minimum / 10``, on the debiased, smoothed loss.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RangeTestResult",
    "Suggestion",
    "Suggestions",
    "DebiasedAverage",
    "smooth_losses",
    "lr_range_test",
]


class DebiasedAverage:
    """fastai's ``AvgSmoothLoss``: an exponential moving average of the loss, divided by
    ``1 - beta**count`` so that its first values are not pulled towards 0. ``beta = 0`` gives
    the raw values. The sweep updates it step by step (its stop rule needs it as it goes);
    :func:`smooth_losses` applies it to a whole curve."""

    def __init__(self, beta: float) -> None:
        self.beta = beta
        self._average = 0.0
        self.count = 0

    def update(self, value: float) -> float:
        self.count += 1
        self._average = self.beta * self._average + (1 - self.beta) * value
        return self._average / (1 - self.beta**self.count)


def smooth_losses(losses: np.ndarray, beta: float) -> np.ndarray:
    """The debiased moving average of ``losses`` (:class:`DebiasedAverage`), point by point."""
    average = DebiasedAverage(beta)
    return np.array([average.update(float(loss)) for loss in losses])


def centered_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average centred on each point (edges padded with the end values): no lag, unlike
    an exponential average, so a rise is found where it happens, not later."""
    window = max(1, int(window) | 1)  # odd
    padded = np.pad(np.asarray(values, float), window // 2, mode="edge")
    return np.convolve(padded, np.ones(window) / window, mode="valid")


@dataclasses.dataclass(frozen=True)
class Suggestion:
    name: str
    lr: float
    rule: str


@dataclasses.dataclass(frozen=True)
class Suggestions:
    """``base_lr`` and ``max_lr`` by the paper's accuracy rule (when there is accuracy), the
    loss-based suggestions, and ``warnings`` saying when the curve cannot be trusted."""

    base_lr: float | None
    max_lr: float | None
    loss_based: tuple[Suggestion, ...]
    warnings: tuple[str, ...]

    def __iter__(self):
        rows = []
        if self.base_lr is not None:
            rows += [
                Suggestion("base_lr", self.base_lr, "accuracy starts to rise (Smith)"),
                Suggestion("max_lr", self.max_lr, "accuracy rise slows or falls (Smith)"),
            ]
        return iter(rows + list(self.loss_based))


def _longest_decreasing_run(values: np.ndarray) -> tuple[int, int]:
    """First and last index of a longest strictly decreasing subsequence (patience sorting)."""
    neg = -values
    tails: list[float] = []
    tail_idx: list[int] = []
    parent = np.full(len(values), -1)
    for i, v in enumerate(neg):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_idx.append(i)
        else:
            tails[k], tail_idx[k] = v, i
        parent[i] = tail_idx[k - 1] if k else -1
    last = tail_idx[-1]
    first = last
    while parent[first] >= 0:
        first = parent[first]
    return first, last


_SERIES = (
    "lr", "loss", "smoothed_loss", "accuracy", "val_iterations", "val_loss", "val_accuracy"
)  # fmt: skip


@dataclasses.dataclass
class RangeTestResult:
    """Per iteration: ``lr``, the true ``loss`` of that batch, the debiased ``smoothed_loss``,
    ``accuracy`` of the batch (when the model has one); every ``eval_every`` iterations with
    validation data: ``val_iterations``, ``val_loss``, ``val_accuracy``."""

    lr: np.ndarray
    loss: np.ndarray
    smoothed_loss: np.ndarray
    accuracy: np.ndarray | None
    val_iterations: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray | None
    sweep: str
    start_lr: float
    end_lr: float
    planned_iterations: int
    stopped_early: bool = False
    stop_reason: str | None = None

    def __post_init__(self) -> None:
        # One home for what a result must hold: built by hand, by the range test or by load().
        from ._checks import check_choice, check_int, check_number

        def series(name: str, length: int | None, optional: bool = False) -> np.ndarray | None:
            value = getattr(self, name)
            if value is None and optional:
                return None
            try:
                array = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                array = None
            if array is None or array.ndim != 1 or isinstance(value, (str, bytes)):
                raise TypeError(
                    f"`{name}` must be a 1-D sequence of numbers. Received: {name}={value!r:.80}"
                )
            if length is not None and len(array) != length:
                of = "evaluations (`val_iterations`)" if name.startswith("val_") else "rates"
                raise ValueError(f"`{name}` has {len(array)} values for {length} {of}.")
            return array

        lr = series("lr", None)
        n = len(lr)
        if n == 0 or not np.all(np.isfinite(lr)) or np.any(lr <= 0):
            raise ValueError("`lr` must hold one finite rate > 0 per iteration.")
        self.lr = lr
        self.loss, self.smoothed_loss = series("loss", n), series("smoothed_loss", n)
        self.accuracy = series("accuracy", n, optional=True)
        its = series("val_iterations", None)
        if not np.all((its >= 0) & (its == np.round(its))):
            raise ValueError("`val_iterations` must be iterations (whole numbers >= 0).")
        if len(its) and its.max() >= n:
            raise ValueError(f"`val_iterations` names iterations past the {n} of the sweep.")
        self.val_iterations = its.astype(np.int64)
        self.val_loss = series("val_loss", len(its))
        self.val_accuracy = series("val_accuracy", len(its), optional=True)
        self.sweep = check_choice("sweep", self.sweep, ("linear", "exp"))
        self.start_lr = check_number("start_lr", self.start_lr, low=0.0)
        self.end_lr = check_number("end_lr", self.end_lr, low=0.0)
        self.planned_iterations = check_int("planned_iterations", self.planned_iterations, low=n)
        if not isinstance(self.stopped_early, (bool, np.bool_)):
            raise TypeError(
                f"`stopped_early` must be True or False. Received: {self.stopped_early!r}"
            )
        self.stopped_early = bool(self.stopped_early)
        if not isinstance(self.stop_reason, (str, type(None))):
            raise TypeError(
                f"`stop_reason` must be a string or None. Received: {self.stop_reason!r}"
            )

    # -- suggestions -------------------------------------------------------------------------
    def _accuracy_curve(self) -> tuple[np.ndarray, np.ndarray, str] | None:
        if self.val_accuracy is not None and len(self.val_accuracy) >= 5:
            return (
                self.lr[self.val_iterations],
                np.asarray(self.val_accuracy, float),
                "validation accuracy",
            )
        if self.accuracy is not None:
            return (
                self.lr,
                centered_mean(self.accuracy, len(self.accuracy) // 20),
                "batch accuracy (centred mean)",
            )
        return None

    def suggest(self) -> Suggestions:
        warnings = []
        finite = np.isfinite(self.smoothed_loss)
        n_ok = int(np.argmin(finite)) if not finite.all() else len(finite)
        if self.stopped_early:
            warnings.append(
                f"the sweep stopped early at lr {self.lr[-1]:.3g} ({self.stop_reason})."
            )
        lo, hi = n_ok // 10, n_ok - 5  # skip the first tenth and the last points, as fastai does
        loss_based: list[Suggestion] = []
        if hi - lo < 20:
            warnings.append(
                f"too short to trust: {max(hi - lo, 0)} usable iterations (want at least 20)."
            )
        else:
            lrs, smooth, raw = self.lr[lo:hi], self.smoothed_loss[lo:hi], self.loss[lo:hi]
            spread = float(np.ptp(smooth))
            noise = float(np.median(np.abs(raw - smooth)))
            if spread == 0 or noise > 0.5 * spread:
                warnings.append(
                    f"too noisy to trust: the batch loss scatters by {noise:.3g} around a curve "
                    f"that moves by {spread:.3g}; use more iterations, larger batches or smoothing "
                    "closer to 1."
                )
            first, last = _longest_decreasing_run(smooth)
            third = (last - first) / 3
            valley = first + int(third) + int(third / 2)
            x = np.log(lrs) if self.sweep == "exp" else lrs
            steep = int(np.argmin(np.gradient(smooth, x)))
            lowest = int(np.argmin(smooth))
            if steep > lowest:
                # Past the minimum the loss rises overall: a steep drop there is the recovery
                # from a spike, not the descent the rule looks for.
                warnings.append(
                    f"steep ({lrs[steep]:.3g}) lies past the lowest loss (at {lrs[lowest]:.3g}): "
                    "it marks the recovery "
                    "from a spike in the loss, not its descent; do not use it."
                )
            loss_based = [
                Suggestion(
                    "valley",
                    float(lrs[valley]),
                    "middle of the longest descent of the smoothed loss (fastai)",
                ),
                Suggestion(
                    "steep", float(lrs[steep]), "steepest descent of the smoothed loss (fastai)"
                ),
                Suggestion(
                    "minimum/10",
                    float(lrs[lowest] / 10),
                    "a tenth of the lr at the lowest loss (fastai)",
                ),
            ]
        base_lr = max_lr = None
        curve = self._accuracy_curve()
        if curve is None:
            warnings.append(
                "no accuracy recorded: compile the model with an accuracy metric for the paper's "
                "rule."
            )
        else:
            lrs, acc, _ = curve
            start, top = float(acc[0]), float(np.max(acc))
            rise = top - start
            if rise <= 0.02:
                warnings.append(
                    "accuracy never rises by more than 2 points: widen the lr range or sweep "
                    "longer."
                )
            else:
                peak = int(np.argmax(acc))
                # "Starts to rise": 10 % of the total rise. "Slows": 90 % of it (before the peak).
                base_lr = float(lrs[int(np.argmax(acc >= start + 0.1 * rise))])
                max_lr = float(lrs[min(int(np.argmax(acc >= start + 0.9 * rise)), peak)])
        return Suggestions(base_lr, max_lr, tuple(loss_based), tuple(warnings))

    # -- plotting -------------------------------------------------------------------------------
    def plot(
        self, ax: Any = None, suggestions: Suggestions | None = None, show_suggestions: bool = True
    ) -> Any:
        """Loss (and accuracy on a second axis) against lr, every suggestion marked and labelled
        (``show_suggestions=False`` draws the curves alone, for reading them without a prompt)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        suggestions = (suggestions or self.suggest()) if show_suggestions else ()
        ax.plot(self.lr, self.loss, color="tab:blue", alpha=0.25, lw=0.8, label="batch loss")
        ax.plot(self.lr, self.smoothed_loss, color="tab:blue", lw=1.8, label="smoothed loss")
        if len(self.val_iterations):
            ax.plot(
                self.lr[self.val_iterations],
                self.val_loss,
                "o",
                color="tab:cyan",
                ms=4,
                label="validation loss",
            )
        finite = self.smoothed_loss[np.isfinite(self.smoothed_loss)]
        if finite.size:
            ax.set_ylim(
                finite.min() - 0.05 * np.ptp(finite),
                min(finite.max(), 3 * np.median(finite)) + 0.05 * np.ptp(finite),
            )
        ax.set(
            xlabel="learning rate" + (" (log scale)" if self.sweep == "exp" else ""),
            ylabel="loss",
            xscale="log" if self.sweep == "exp" else "linear",
        )
        handles, labels = ax.get_legend_handles_labels()
        curve = self._accuracy_curve()
        if curve is not None:
            twin = ax.twinx()
            lrs, acc, what = curve
            twin.plot(lrs, 100 * acc, color="tab:green", lw=1.5, label=what)
            twin.set_ylabel("accuracy (%)")
            twin_handles, twin_labels = twin.get_legend_handles_labels()
            handles, labels = handles + twin_handles, labels + twin_labels
        colours = {
            "base_lr": "tab:green",
            "max_lr": "tab:red",
            "valley": "tab:purple",
            "steep": "tab:orange",
            "minimum/10": "tab:brown",
        }
        for s in suggestions:
            line = ax.axvline(
                s.lr,
                color=colours.get(s.name, "0.4"),
                ls="--",
                lw=1.2,
                label=f"{s.name} = {s.lr:.3g}",
            )
            handles.append(line)
            labels.append(line.get_label())
        ax.legend(
            handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1), borderaxespad=0
        )  # off the curves
        sweep = f"{self.sweep} sweep {self.start_lr:g} to {self.end_lr:g}"
        title = f"LR range test: {sweep}, {len(self.lr)} iterations"
        ax.set_title(title + (" (stopped early)" if self.stopped_early else ""))
        return ax

    # -- saving -----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the result as JSON (NaN and infinity as null)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v = [None if not math.isfinite(float(x)) else float(x) for x in v]
            out[f.name] = v
        Path(path).write_text(json.dumps(out) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> RangeTestResult:
        """A result written by :meth:`save`. Every key is checked (present, of its type, the
        arrays of one length); a wrong file raises one ``ValueError`` naming the file and the
        key."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"No range-test result at {path}.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(
                f"{path} is not a range-test result: not readable JSON ({err})."
            ) from None
        if not isinstance(raw, dict):
            raise ValueError(
                f"{path} is not a range-test result: it holds a {type(raw).__name__}, not an "
                "object."
            )
        # Files written before the sweep's ends were renamed (they said min_lr/max_lr).
        for old, new in (("min_lr", "start_lr"), ("max_lr", "end_lr")):
            if old in raw and new not in raw:
                raw[new] = raw.pop(old)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
        unknown, missing = sorted(set(raw) - set(fields)), sorted(required - set(raw))
        if unknown or missing:
            what = "; ".join(
                ([f"unknown keys {unknown}"] if unknown else [])
                + ([f"missing keys {missing}"] if missing else [])
            )
            raise ValueError(f"{path} is not a range-test result: {what}.")

        def array(key: str) -> np.ndarray | None:
            # JSON's own types here; what the values must be is the constructor's to check.
            value = raw[key]
            if value is None:
                return None
            if not isinstance(value, list) or not all(
                x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))
                for x in value
            ):
                raise ValueError(f"{path}: key {key!r} must be a list of numbers (or null).")
            return np.array([np.nan if x is None else x for x in value], dtype=float)

        try:
            return cls(**{k: array(k) if k in _SERIES else v for k, v in raw.items()})
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: {err}") from None


def _shapes(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_shapes(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shapes(v) for v in value) + "]"
    return str(tuple(getattr(value, "shape", ()))) if value is not None else "None"


def _one_line(err: BaseException) -> str:
    """Keras' message without its colour codes and blank lines, on one line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    return " ".join(line.strip() for line in text.splitlines() if line.strip())[:600]


def lr_range_test(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    start_lr: float,
    end_lr: float,
    iterations: int | None = None,
    epochs: float | None = None,
    sweep: str = "linear",
    batch_size: int | None = None,
    sample_weight: Any = None,
    validation_data: Any = None,
    validation_steps: int | None = None,
    eval_every: int | None = None,
    smoothing: float = 0.98,
    stop_factor: float | None = 4.0,
    seed: int = 0,
    verbose: int = 1,
) -> RangeTestResult:
    """Smith's LR range test: train one batch per rate while the rate rises from ``start_lr``
    to ``end_lr``, recording the true loss of every batch; then put the model back.

    The paper's CIFAR-10 test is a ``"linear"`` sweep over 8 epochs with accuracy on held-out
    data (``validation_data``, every ``eval_every`` iterations); ``"exp"`` spaces the rates
    geometrically, as fastai does. Each batch's loss is that batch's own (the metrics are reset
    before every batch; Keras' batch-end logs hold a running mean since the epoch began, which
    shifts the curve right). The sweep stops early when the smoothed loss exceeds
    ``stop_factor`` times its best or is not finite, and the result says so.

    Afterwards the model's weights and the optimizer's variables (its step count, momentum,
    learning rate) are exactly what they were before, also when the sweep stopped early or was
    interrupted by an exception or KeyboardInterrupt. An optimizer not yet built is built first,
    so its fresh state is what comes back. (A generator's consumed batches cannot come back.)

    Args:
        model: a compiled Keras model whose optimizer has a float learning rate.
        x, y: what ``model.fit`` takes: in-memory arrays (each epoch's full batches in a new
            seeded order; a partial last batch is left out), or a pipeline that brings its own
            batches and targets (``y`` None): a ``tf.data.Dataset``, a
            ``keras.utils.PyDataset``, a PyTorch ``DataLoader`` (torch backend) or a generator
            of ``(x, y)``/``(x, y, sample_weight)``.
        start_lr, end_lr: the swept range, ``0 < start_lr < end_lr``.
        iterations, epochs: the length of the sweep; give one (``epochs`` counts passes over
            ``x``). At least 10 iterations. A finite pipeline must hold them (or pass
            ``epochs`` to read a Dataset/PyDataset/DataLoader several times); an infinite one
            needs ``iterations``.
        sweep: ``"linear"`` or ``"exp"``.
        batch_size: for arrays (default 32); None for a pipeline, which batches itself.
        sample_weight: per-example weights for arrays.
        validation_data: ``(x_val, y_val)`` arrays or a pipeline (read once, ``validation_steps``
            batches of an endless one), evaluated every ``eval_every`` iterations (default:
            about 40 evaluations over the sweep).
        smoothing: beta of the debiased moving average of the loss, in [0, 1).
        stop_factor: stop when the smoothed loss exceeds this times its best; None never stops.
        seed: seeds the order of the batches of arrays.

    Returns:
        A :class:`RangeTestResult`: ``.suggest()``, ``.plot()``, ``.save(path)``.
    """
    import keras

    from ._checks import check_choice, check_int, check_number
    from ._pipelines import training_batches, validation_arrays
    from .keras import learning_rate_schedule

    start_lr = check_number("start_lr", start_lr, low=0.0)
    end_lr = check_number("end_lr", end_lr, low=0.0)
    if end_lr <= start_lr:
        raise ValueError(
            f"`end_lr` must be > `start_lr` ({start_lr!r}). Received: end_lr={end_lr!r}"
        )
    sweep = check_choice("sweep", sweep, ("linear", "exp"))
    smoothing = check_number(
        "smoothing", smoothing, low=0.0, low_inclusive=True, high=1.0, high_inclusive=False
    )
    if stop_factor is not None:
        stop_factor = check_number("stop_factor", stop_factor, low=1.0)
    seed = check_int("seed", seed, low=0)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
            "`model` must be compiled (with an optimizer and a loss) before the range test."
        )
    if learning_rate_schedule(optimizer) is not None:
        raise TypeError(
            "lr_range_test sets the optimizer's learning rate each batch: compile the model with a "
            "float `learning_rate`, not a schedule."
        )
    batches = training_batches(
        x, y, batch_size=batch_size, iterations=iterations, epochs=epochs, seed=seed,
        sample_weight=sample_weight,
    )  # fmt: skip
    iterations = len(batches)
    eval_every = (
        max(1, iterations // 40)
        if eval_every is None
        else check_int("eval_every", eval_every, low=1)
    )
    validation = None
    if validation_data is not None:
        validation = validation_arrays(validation_data, validation_steps)

    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    weights = [keras.ops.convert_to_numpy(v) for v in model.weights]
    optimizer_state = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]

    t = np.arange(iterations) / max(iterations - 1, 1)
    lrs = (
        start_lr + (end_lr - start_lr) * t
        if sweep == "linear"
        else start_lr * (end_lr / start_lr) ** t
    )
    losses, accuracies, smooth = [], [], []
    val_it, val_loss, val_acc = [], [], []
    average, best, stop_reason = DebiasedAverage(smoothing), math.inf, None
    progress = keras.utils.Progbar(
        iterations, verbose=verbose, stateful_metrics=["lr", "smoothed_loss"]
    )
    try:
        for i, (lr, (bx, by, bw)) in enumerate(zip(lrs, batches)):
            optimizer.learning_rate = float(lr)
            model.reset_metrics()  # so that the logs are this batch's, on every Keras version
            try:
                logs = model.train_on_batch(bx, by, sample_weight=bw, return_dict=True)
            except (ValueError, TypeError) as err:
                if i:
                    raise
                # The model and the data disagree (shapes, input names): say so in one line.
                raise ValueError(
                    f"The model cannot train on the first batch of `x` (x {_shapes(bx)}, y "
                    f"{_shapes(by)}): {_one_line(err)}"
                ) from None
            loss = float(logs["loss"])
            losses.append(loss)
            acc_key = next((k for k in logs if "acc" in k), None)
            if acc_key is not None:
                accuracies.append(float(logs[acc_key]))
            smoothed = average.update(loss)
            smooth.append(smoothed)
            if validation is not None and (i % eval_every == 0 or i == iterations - 1):
                vx, vy, vw = validation
                result = model.evaluate(
                    vx, vy, sample_weight=vw, batch_size=max(batches.batch_size or 0, 256),
                    verbose=0, return_dict=True,
                )  # fmt: skip
                val_it.append(i)
                val_loss.append(float(result["loss"]))
                key = next((k for k in result if "acc" in k), None)
                if key is not None:
                    val_acc.append(float(result[key]))
            progress.update(i + 1, [("lr", float(lr)), ("smoothed_loss", smoothed)])
            if not math.isfinite(smoothed):
                stop_reason = f"the loss became {loss} at iteration {i}"
                break
            best = min(best, smoothed)
            if stop_factor is not None and smoothed > stop_factor * best:
                stop_reason = (
                    f"the smoothed loss {smoothed:.3g} passed {stop_factor:g} x its best "
                    f"{best:.3g} at iteration {i}"
                )
                break
    finally:
        # Put everything back, whatever happened above (divergence, an exception, Ctrl-C).
        for variable, value in zip(model.weights, weights):
            variable.assign(value)
        for variable, value in zip(optimizer.variables, optimizer_state):
            variable.assign(value)
        model.reset_metrics()
        model.stop_training = False
    done = len(losses)
    return RangeTestResult(
        lr=lrs[:done],
        loss=np.array(losses),
        smoothed_loss=np.array(smooth),
        accuracy=np.array(accuracies) if accuracies else None,
        val_iterations=np.array(val_it, dtype=int),
        val_loss=np.array(val_loss),
        val_accuracy=np.array(val_acc) if val_acc else None,
        sweep=sweep,
        start_lr=start_lr,
        end_lr=end_lr,
        planned_iterations=iterations,
        stopped_early=stop_reason is not None,
        stop_reason=stop_reason,
    )
