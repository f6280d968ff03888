"""What an LR range test gives: :class:`RangeTestResult` (the rates, losses and accuracies it
recorded; its suggestions, plot and files) and the smoothing it uses. numpy only (matplotlib to
plot). The sweep that makes one, which needs Keras, lives in :mod:`clr.range_test`.

Smith's rule reads accuracy: ``base_lr`` where accuracy starts to rise, ``max_lr`` where the
rise slows, becomes ragged or falls. The loss rules are fastai's: ``valley``, ``steep`` and
``minimum / 10``, on the debiased, smoothed loss.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RangeTestResult",
    "Suggestion",
    "Suggestions",
    "DebiasedAverage",
    "smooth_losses",
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
    loss-based suggestions, and ``warnings`` saying when the curve cannot be trusted.

    ``resolution`` is how finely the accuracy rule can place a rate: the change of rate between
    two accuracy readings near ``max_lr`` (validation evaluations; for batch accuracy, the
    width of its centred mean). Readings closer than that are indistinguishable."""

    base_lr: float | None
    max_lr: float | None
    loss_based: tuple[Suggestion, ...]
    warnings: tuple[str, ...]
    resolution: float | None = None

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
    def _accuracy_curve(self) -> tuple[np.ndarray, np.ndarray, str, int] | None:
        """The accuracy the paper's rule reads: ``(lrs, accuracy, label, readings per point)``,
        validation accuracy when evaluated, else the batch accuracy's centred mean."""
        if self.val_accuracy is not None and len(self.val_accuracy) >= 5:
            return (
                self.lr[self.val_iterations],
                np.asarray(self.val_accuracy, float),
                "validation accuracy",
                1,
            )
        if self.accuracy is not None:
            window = len(self.accuracy) // 20
            return (
                self.lr,
                centered_mean(self.accuracy, window),
                "batch accuracy (centred mean)",
                max(window, 1),
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
        base_lr = max_lr = resolution = None
        curve = self._accuracy_curve()
        if curve is None:
            warnings.append(
                "no accuracy recorded: compile the model with an accuracy metric for the paper's "
                "rule."
            )
        else:
            lrs, acc, _, window = curve
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
                at = min(int(np.argmax(acc >= start + 0.9 * rise)), peak)
                max_lr = float(lrs[at])
                spacing = np.abs(np.diff(lrs))
                resolution = float(spacing[min(at, len(spacing) - 1)]) * window
        return Suggestions(base_lr, max_lr, tuple(loss_based), tuple(warnings), resolution)

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
            lrs, acc, what, _ = curve
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
