"""What a wrong answer's values show: the shape of its error, named for the participant.

A check evaluates the participant's policy densely on hidden settings (every peak and trough,
and points between), then :func:`describe` compares the curve with the reference and names what
is visibly wrong (never the formula): the rate never leaves ``base_lr``, the right curve at the
wrong scale, shifted by one iteration, a cycle of the wrong length, upside down, under
``base_lr`` or over ``max_lr``, the peak early or late, a single rise, a height that does not
shrink, shrinks per cycle where it should shrink per iteration (or the other way), linearly
where it should shrink exponentially. :func:`witness` picks the case to show: where the
difference is largest relative to the curve's height, at a peak or a trough when there is one.

The hints' texts are in :data:`HINTS`, one per shape; the catalogue of mistakes
(``catalogue``) says which shape each makes, and the checks (``checks``) print them.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._policies import cyclic_lr

__all__ = ["Curve", "HINTS", "describe", "grid", "witness", "where"]

# Two values are "the same" when within this share of the curve's height: far looser than
# floating-point rounding, far tighter than any mistake.
_SAME = 2e-3

HINTS: dict[str, str] = {
    # -- the cyclic policies ------------------------------------------------------------------
    "flat-at-base": "Your rate never leaves base_lr: the triangle is 0 everywhere, so x is 1 or "
    "more at every iteration. Check the cycle number (rounded down, and the first cycle is 1, "
    "not 0 or 2) and the signs inside x.",
    "scale": "Your curve has the right shape at the wrong scale: every value is {factor} times "
    "the reference's.",
    "shifted-by-one": "Your curve is one iteration {direction}: at iteration i you give the rate "
    "of iteration {other}. Iterations count from 0: the first batch is iteration 0.",
    "period": "A cycle of yours lasts {period:,} iterations instead of two step sizes "
    "({expected:,}): step_size is half a cycle, from base_lr up to max_lr.",
    "upside-down": "Your curve is upside down: it is at its highest where it should be lowest "
    "(the start of a cycle) and lowest at the peak. Either base_lr and max_lr are swapped, or "
    "the triangle is written as x where it should be 1 - x.",
    "under-base": "Your rate goes below base_lr ({got:.6g} at iteration {iteration:,}; "
    "base_lr is {bound:g}): the rate is base_lr plus a height that is never negative. Is "
    "base_lr missing, or the height scaled below 0?",
    "over-max": "Your rate goes above max_lr ({got:.6g} at iteration {iteration:,}; max_lr is "
    "{bound:g}): the height above base_lr is at most max_lr - base_lr, times a factor between 0 "
    "and 1. Is a factor above 1, or x negative (the distance |...| missing)?",
    "peak-moved": "Your peak comes {how}: your rate first peaks at iteration {got:,} instead of "
    "step_size ({expected:,}) iterations in, the middle of the cycle.",
    "rises-once": "It looks as if a cycle lasts step_size iterations: step_size is half a cycle "
    "(base to peak), a cycle is two of them, so the rate rises once and never again.",
    "no-decay": "Your height never shrinks: every peak reaches max_lr, as in triangular. In "
    "{mode} the height above base_lr shrinks {how}.",
    "changes-within-cycle": "Your height changes in the middle of a cycle (around iteration "
    "{iteration:,}): triangular2 keeps it for the whole cycle and halves it once, at the next "
    "cycle's start.",
    "decays-per-cycle": "Your height shrinks in steps, once per cycle: exp_range shrinks it a "
    "little at every iteration, by gamma to the iteration counted from the start of training.",
    "linear-decay": "Your height shrinks along a straight line: exp_range shrinks it by a "
    "factor gamma at every iteration (gamma to the power i), a curve that flattens out, not a "
    "line.",
    "envelope": "Your height shrinks {how} than it should: at iteration {iteration:,} it is "
    "{got:.3g} of max_lr - base_lr, where it should be {expected:.3g}.",
    # -- predictions ----------------------------------------------------------------------------
    "percent": "Your predictions look {factor} times too large: written in percent? Give the "
    "rate itself (0.006, not 0.6).",
    # -- when nothing above fits ----------------------------------------------------------------
    "general": "compare your curve with the explorer's around that iteration: where do they part?",
}


@dataclasses.dataclass(frozen=True)
class Curve:
    """One hidden setting: the iterations asked, the reference's values and the answer's."""

    settings: tuple[float, ...]  # (base_lr, max_lr, step_size[, gamma])
    iterations: np.ndarray
    expected: np.ndarray
    got: np.ndarray

    @property
    def base_lr(self) -> float:
        return self.settings[0]

    @property
    def max_lr(self) -> float:
        return self.settings[1]

    @property
    def step_size(self) -> float:
        return self.settings[2]

    @property
    def height(self) -> float:
        return self.max_lr - self.base_lr

    def same(self, values: np.ndarray, scale: float | None = None) -> np.ndarray:
        return np.abs(self.got - values) <= _SAME * (scale or self.height) + 1e-15


def grid(step_size: int, cycles: int = 5) -> np.ndarray:
    """Iterations that show a curve's shape: every peak and trough of ``cycles`` cycles, the
    iterations beside them, and 20 points per half cycle between."""
    s = int(step_size)
    ends = 2 * s * cycles
    keys = [k * s + d for k in range(2 * cycles + 1) for d in (-1, 0, 1)]
    between = np.linspace(0, ends, 20 * 2 * cycles + 1).round().astype(int)
    points = np.unique(np.concatenate([between, keys]))
    return points[(points >= 0) & (points <= ends)]


def where(iteration: int, step_size: float) -> str:
    """Where an iteration sits in its cycle, in words."""
    phase = iteration % (2 * step_size)
    cycle = math.floor(1 + iteration / (2 * step_size))
    if phase == 0:
        return f"the start of cycle {cycle}, a trough"
    if phase == step_size:
        return f"the peak of cycle {cycle}"
    return f"cycle {cycle}, {'rising' if phase < step_size else 'falling'}"


def witness(curves: list[Curve]) -> tuple[Curve, int]:
    """The case to show: the largest difference relative to the curve's height, at a peak or a
    trough when any differs there (a difference nobody can see, off by 1e-6 at iteration 1, is
    never the one shown when a visible one exists)."""
    best, best_key = (curves[0], 0), (-1, -1.0)
    for curve in curves:
        s = curve.step_size
        off = np.abs(curve.got - curve.expected) / curve.height
        at_key = (curve.iterations % s) == 0
        for k in np.flatnonzero(off > 0):
            key = (int(at_key[k]), float(off[k]))
            if key > best_key:
                best, best_key = (curve, int(k)), key
    return best


def describe(mode: str, curves: list[Curve]) -> tuple[str, dict[str, object]] | None:
    """The shape of the error of a wrong policy (``mode`` triangular, triangular2 or
    exp_range), as a key of :data:`HINTS` and the values its text names (and, as ``_at``, the
    case it names, when it names one); None when no shape fits."""
    for finding in (
        _flat(curves),
        _scale(curves),
        _shift(mode, curves),
        _period(mode, curves),
        _upside_down(curves),
        _out_of_bounds(curves),
        _rises_once(curves),
        _envelope(mode, curves),
        _peak_moved(curves),
        _envelope_off(mode, curves),
    ):
        if finding is not None:
            return finding
    return None


# -- the shapes ---------------------------------------------------------------------------------


def _reference(mode: str, curve: Curve, iterations: np.ndarray, **changes: float) -> np.ndarray:
    b, m, s = curve.settings[:3]
    gamma = curve.settings[3] if len(curve.settings) > 3 else 1.0
    settings = {"base_lr": b, "max_lr": m, "step_size": s, "gamma": gamma, **changes}
    # negative iterations (a shift's look back) are never compared: evaluate them at 0
    iterations = np.maximum(iterations, 0)
    return np.asarray(cyclic_lr(iterations, mode=mode, **settings), dtype=np.float64)


def _first_peak(curves: list[Curve]) -> tuple[int, int]:
    """The first curve's first peak: where most shapes show, with the numbers a hint names."""
    c = curves[0]
    return 0, int(np.flatnonzero(c.iterations == c.step_size)[0])


def _flat(curves: list[Curve]):
    if all(np.all(c.same(np.full_like(c.got, c.base_lr))) for c in curves):
        return "flat-at-base", {"_at": _first_peak(curves)}
    return None


def _scale(curves: list[Curve]):
    ratios = np.concatenate([c.got[c.expected > 0] / c.expected[c.expected > 0] for c in curves])
    factor = float(np.median(ratios))
    if not math.isfinite(factor) or abs(factor - 1) < 0.01 or factor <= 0:
        return None
    if all(np.all(c.same(factor * c.expected, factor * c.height)) for c in curves):
        shown = f"{factor:.3g}" if factor >= 1 else f"1/{1 / factor:.3g}"
        return "scale", {"factor": shown}
    return None


def _shift(mode: str, curves: list[Curve]):
    for d in (1, -1):
        if all(
            np.all(c.same(_reference(mode, c, c.iterations + d))[c.iterations + d >= 0])
            for c in curves
        ):
            return "shifted-by-one", {
                "direction": "ahead" if d > 0 else "behind",
                "other": "i + 1" if d > 0 else "i - 1",
            }
    return None


def _period(mode: str, curves: list[Curve]):
    for factor in (0.5, 2.0, 3.0, 1.5, 0.25, 4.0, 1 / 3, 5.0, 10.0, 0.1):
        if all(
            np.all(c.same(_reference(mode, c, c.iterations, step_size=c.step_size * factor)))
            for c in curves
        ):
            c = curves[0]
            return "period", {
                "period": int(round(2 * c.step_size * factor)),
                "expected": int(2 * c.step_size),
                "_at": _first_peak(curves),
            }
    return None


def _upside_down(curves: list[Curve]):
    """In the first cycle, highest where it starts and lowest at the peak."""
    for c in curves:
        first = c.iterations <= 2 * c.step_size
        got, i = c.got[first], c.iterations[first]
        if np.ptp(got) <= _SAME * c.height:
            return None
        top, bottom = got[i == 0][0], got[i == c.step_size][0]
        if top < got.max() - _SAME * c.height or bottom > got.min() + _SAME * c.height:
            return None
    return "upside-down", {"_at": (0, 0)}


def _out_of_bounds(curves: list[Curve]):
    low = [(float((c.base_lr - c.got).max()) / c.height, c) for c in curves]
    high = [(float((c.got - c.max_lr).max()) / c.height, c) for c in curves]
    for found, key, pick in ((low, "under-base", np.argmin), (high, "over-max", np.argmax)):
        worst, c = max(found, key=lambda item: item[0])
        if worst > _SAME:
            k = int(pick(c.got))
            bound = c.base_lr if key == "under-base" else c.max_lr
            return key, {
                "got": float(c.got[k]),
                "iteration": int(c.iterations[k]),
                "bound": bound,
                "_at": (curves.index(c), k),
            }
    return None


def _peak_moved(curves: list[Curve]):
    c = curves[0]
    first = c.iterations < 2 * c.step_size
    if np.ptp(c.got[first]) <= _SAME * c.height:
        return None
    peak = int(c.iterations[first][np.argmax(c.got[first])])
    if abs(peak - c.step_size) <= max(1, c.step_size // 20):
        return None
    return "peak-moved", {
        "how": "late" if peak > c.step_size else "early",
        "got": peak,
        "expected": int(c.step_size),
        "_at": _first_peak(curves),
    }


def _rises_once(curves: list[Curve]):
    for c in curves:
        first = c.iterations < c.step_size
        flat_after = c.same(np.full_like(c.got, c.base_lr))[~first]
        if not (np.all(c.same(c.expected)[first]) and np.all(flat_after)):
            return None
    return "rises-once", {"_at": _first_peak(curves)}


def _heights(mode: str, c: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the plain triangle is high enough to read it: the iterations, and the answer's and
    the reference's height there as a share of the plain triangle's."""
    triangle = _reference("triangular", c, c.iterations, gamma=1.0) - c.base_lr
    readable = triangle >= 0.25 * c.height
    got = (c.got[readable] - c.base_lr) / triangle[readable]
    expected = (c.expected[readable] - c.base_lr) / triangle[readable]
    return c.iterations[readable], got, expected


def _sides(i: np.ndarray, step_size: float) -> list[np.ndarray]:
    """Masks of each half cycle (a rise, a fall) that holds readable points."""
    half = np.floor(i / step_size)
    return [half == h for h in np.unique(half)]


def _envelope(mode: str, curves: list[Curve]):
    """The clean envelopes: a height that never shrinks; one that changes at the peak
    (triangular2); one that shrinks per cycle or along a line (exp_range)."""
    if mode == "triangular":
        return None
    for c in curves:
        i, got, expected = _heights(mode, c)
        if np.allclose(got, expected, atol=_SAME):
            continue
        how = "by half every cycle" if mode == "triangular2" else "by gamma every iteration"
        if np.allclose(got, 1.0, atol=_SAME):
            return "no-decay", {"mode": mode, "how": how}
        sides = _sides(i, c.step_size)
        steady = all(np.ptp(got[m]) <= _SAME * max(abs(got[m]).max(), 1e-12) for m in sides)
        if mode == "triangular2" and steady:
            k = int(np.argmax(np.abs(got - expected) > _SAME))  # where they first part
            return "changes-within-cycle", {"iteration": int(i[k])}
        cycle = np.floor(1 + i / (2 * c.step_size))
        per_cycle = all(
            np.ptp(got[cycle == k]) <= _SAME * max(abs(got[cycle == k]).max(), 1e-12)
            for k in np.unique(cycle)
        )
        if mode == "exp_range" and per_cycle:
            return "decays-per-cycle", {}
        positive = got > 0.05
        if mode == "exp_range" and positive.sum() >= 5 and _is_line(i[positive], got[positive]):
            if np.polyfit(i[positive].astype(float), got[positive], 1)[0] < 0:
                return "linear-decay", {}
        if (
            mode == "exp_range"
            and positive.sum() >= 5
            and _is_line(i[positive], np.log(got[positive]))
        ):
            return _envelope_off(mode, curves)  # exponential, at another rate
        return None
    return None


def _envelope_off(mode: str, curves: list[Curve]):
    """Any other height: where it differs most from the reference's, as a share."""
    if mode == "triangular":
        return None
    for c in curves:
        i, got, expected = _heights(mode, c)
        if np.allclose(got, expected, atol=_SAME):
            continue
        k = int(np.argmax(np.abs(got - expected)))
        return "envelope", {
            "how": "faster" if got[k] < expected[k] else "slower",
            "iteration": int(i[k]),
            "got": float(got[k]),
            "expected": float(expected[k]),
        }
    return None


def _is_line(x: np.ndarray, y: np.ndarray) -> bool:
    slope, intercept = np.polyfit(x.astype(float), y, 1)
    return bool(np.max(np.abs(slope * x + intercept - y)) <= 0.01 * max(np.ptp(y), 1e-12))
