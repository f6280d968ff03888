"""The LR range test's result and its suggestions: numpy only (the Keras sweep is in clr.keras).

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

__all__ = ["RangeTestResult", "Suggestion", "Suggestions", "smooth_losses"]


def smooth_losses(losses: np.ndarray, beta: float) -> np.ndarray:
    """Debiased exponential moving average (fastai's ``AvgSmoothLoss``): with ``beta = 0`` the raw losses."""
    out = np.empty(len(losses))
    avg = 0.0
    for i, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        out[i] = avg / (1 - beta ** (i + 1))
    return out


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
            rows += [Suggestion("base_lr", self.base_lr, "accuracy starts to rise (Smith)"),
                     Suggestion("max_lr", self.max_lr, "accuracy rise slows or falls (Smith)")]  # fmt: skip
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
    min_lr: float
    max_lr: float
    planned_iterations: int
    stopped_early: bool = False
    stop_reason: str | None = None

    # -- suggestions -------------------------------------------------------------------------
    def _accuracy_curve(self) -> tuple[np.ndarray, np.ndarray, str] | None:
        if self.val_accuracy is not None and len(self.val_accuracy) >= 5:
            return self.lr[self.val_iterations], np.asarray(self.val_accuracy, float), "validation accuracy"
        if self.accuracy is not None:
            return self.lr, centered_mean(self.accuracy, len(self.accuracy) // 20), "batch accuracy (centred mean)"
        return None

    def suggest(self) -> Suggestions:
        warnings = []
        finite = np.isfinite(self.smoothed_loss)
        n_ok = int(np.argmin(finite)) if not finite.all() else len(finite)
        if self.stopped_early:
            warnings.append(f"the sweep stopped early at lr {self.lr[-1]:.3g} ({self.stop_reason}).")
        lo, hi = n_ok // 10, n_ok - 5  # skip the first tenth and the last points, as fastai does
        loss_based: list[Suggestion] = []
        if hi - lo < 20:
            warnings.append(f"too short to trust: {max(hi - lo, 0)} usable iterations (want at least 20).")
        else:
            lrs, smooth, raw = self.lr[lo:hi], self.smoothed_loss[lo:hi], self.loss[lo:hi]
            spread = float(np.ptp(smooth))
            noise = float(np.median(np.abs(raw - smooth)))
            if spread == 0 or noise > 0.5 * spread:
                warnings.append(f"too noisy to trust: the batch loss scatters by {noise:.3g} around a curve that moves by {spread:.3g}; use more iterations, larger batches or smoothing closer to 1.")
            first, last = _longest_decreasing_run(smooth)
            third = (last - first) / 3
            valley = first + int(third) + int(third / 2)
            x = np.log(lrs) if self.sweep == "exp" else lrs
            steep = int(np.argmin(np.gradient(smooth, x)))
            loss_based = [
                Suggestion("valley", float(lrs[valley]), "middle of the longest descent of the smoothed loss (fastai)"),
                Suggestion("steep", float(lrs[steep]), "steepest descent of the smoothed loss (fastai)"),
                Suggestion("minimum/10", float(lrs[int(np.argmin(smooth))] / 10), "a tenth of the lr at the lowest loss (fastai)"),
            ]
        base_lr = max_lr = None
        curve = self._accuracy_curve()
        if curve is None:
            warnings.append("no accuracy recorded: compile the model with an accuracy metric for the paper's rule.")
        else:
            lrs, acc, _ = curve
            start, top = float(acc[0]), float(np.max(acc))
            rise = top - start
            if rise <= 0.02:
                warnings.append("accuracy never rises by more than 2 points: widen the lr range or sweep longer.")
            else:
                peak = int(np.argmax(acc))
                # "Starts to rise": 10 % of the total rise. "Slows": 90 % of it (before the peak).
                base_lr = float(lrs[int(np.argmax(acc >= start + 0.1 * rise))])
                max_lr = float(lrs[min(int(np.argmax(acc >= start + 0.9 * rise)), peak)])
        return Suggestions(base_lr, max_lr, tuple(loss_based), tuple(warnings))

    # -- plotting -------------------------------------------------------------------------------
    def plot(self, ax: Any = None, suggestions: Suggestions | None = None, show_suggestions: bool = True) -> Any:
        """Loss (and accuracy on a second axis) against lr, every suggestion marked and labelled
        (``show_suggestions=False`` draws the curves alone, for reading them without a prompt)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        suggestions = (suggestions or self.suggest()) if show_suggestions else ()
        ax.plot(self.lr, self.loss, color="tab:blue", alpha=0.25, lw=0.8, label="batch loss")
        ax.plot(self.lr, self.smoothed_loss, color="tab:blue", lw=1.8, label="smoothed loss")
        if len(self.val_iterations):
            ax.plot(self.lr[self.val_iterations], self.val_loss, "o", color="tab:cyan", ms=4, label="validation loss")
        finite = self.smoothed_loss[np.isfinite(self.smoothed_loss)]
        if finite.size:
            ax.set_ylim(finite.min() - 0.05 * np.ptp(finite), min(finite.max(), 3 * np.median(finite)) + 0.05 * np.ptp(finite))
        ax.set(xlabel="learning rate" + (" (log scale)" if self.sweep == "exp" else ""), ylabel="loss", xscale="log" if self.sweep == "exp" else "linear")
        handles, labels = ax.get_legend_handles_labels()
        curve = self._accuracy_curve()
        if curve is not None:
            twin = ax.twinx()
            lrs, acc, what = curve
            twin.plot(lrs, 100 * acc, color="tab:green", lw=1.5, label=what)
            twin.set_ylabel("accuracy (%)")
            h, l = twin.get_legend_handles_labels()
            handles, labels = handles + h, labels + l
        colours = {"base_lr": "tab:green", "max_lr": "tab:red", "valley": "tab:purple", "steep": "tab:orange", "minimum/10": "tab:brown"}
        for s in suggestions:
            line = ax.axvline(s.lr, color=colours.get(s.name, "0.4"), ls="--", lw=1.2, label=f"{s.name} = {s.lr:.3g}")
            handles.append(line)
            labels.append(line.get_label())
        ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1), borderaxespad=0)  # off the curves
        title = f"LR range test: {self.sweep} sweep {self.min_lr:g} to {self.max_lr:g}, {len(self.lr)} iterations"
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
    def load(cls, path: str | Path) -> "RangeTestResult":
        raw = json.loads(Path(path).read_text())
        arrays = {"lr", "loss", "smoothed_loss", "accuracy", "val_loss", "val_accuracy"}
        for name in arrays:
            if raw[name] is not None:
                raw[name] = np.array([np.nan if x is None else x for x in raw[name]], dtype=float)
        raw["val_iterations"] = np.array(raw["val_iterations"], dtype=int)
        return cls(**raw)
