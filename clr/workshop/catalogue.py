"""The catalogue of mistakes beginners make in the workshop, each with a wrong answer that makes
it (data for the checks, the tests and the instructors' guide).

A mistake either names the shape of the error its values show (``shape``, a key of
:data:`clr.workshop.shapes.HINTS`: several mistakes can look the same, and the hint then names
what is visible, not one cause), or carries a hint of its own (``hint``) when its values single
it out (gamma raised to the cycle number, say). The checks that print the hints live in
``checks``; the table for instructors is written by ``guide``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from .._one_cycle import one_cycle
from .._policies import step_size_range

__all__ = ["MISTAKES", "Mistake", "catalogue", "one_cycle_reference"]


@dataclasses.dataclass(frozen=True)
class Mistake:
    """One typical mistake in one exercise.

    ``wrong`` is an answer that makes it, in the exercise's own form: a policy function
    ``(iteration, base_lr, max_lr, step_size[, gamma])`` or ``(iteration, max_lr,
    total_steps)``; for ``prediction`` the wrong rate ``(iteration, base_lr, max_lr,
    step_size, mode, gamma)``; for ``step_size`` the wrong value ``(train_examples,
    batch_size)``; for ``bounds`` the wrong ``(base_lr, max_lr)`` from ``(suggestions,
    result)``. ``recognise`` (step size and bounds only) tells the mistake from a value.
    Exactly one of ``hint`` (its own) and ``shape`` (the hint of what its values show).
    """

    exercise: str
    name: str
    what: str  # for instructors: what the participant did
    wrong: Callable[..., Any]
    hint: str | None = None  # for the participant: names the mistake, never gives the formula
    shape: str | None = None
    recognise: Callable[..., bool] | None = None

    def __post_init__(self) -> None:
        if (self.hint is None) == (self.shape is None):
            raise ValueError(f"{self.name}: give exactly one of `hint` and `shape`")


# -- the cyclic policies, right and wrong --------------------------------------------------------


def _policy(mode: str, **slip: Any) -> Callable[..., float]:
    """The policy ``mode`` with one slip. In the cycle: ``cycle`` "1+" (right), "0" (0-based),
    "no-floor"; ``period`` of the cycle count in step sizes (2 right); ``half`` scales the step
    size (0.5: step_size taken as the whole cycle). In x: ``x_shift`` (the + 1), ``sign`` (-1: a
    sign slip), ``use_abs``. In the triangle: ``flip`` (x where 1 - x belongs). In the rate:
    ``swap`` the bounds, ``no_base`` (base_lr left out), ``shift`` the iteration (1: counted
    from 1). In the height's ``scale``:
    "right", "cycle-0" (halved from the first cycle), "iteration" (halved every iteration),
    "fraction" (by fractions of a cycle), "peak" (halved at every peak), "none" (never scaled),
    "gamma-cycle", "gamma-in-cycle", "gamma-times" (gamma * i), "linear" (a line to 0);
    ``whole`` scales the whole rate."""
    cycle_kind, period = slip.get("cycle", "1+"), slip.get("period", 2)
    x_shift, sign, use_abs = slip.get("x_shift", 1), slip.get("sign", 1), slip.get("use_abs", True)
    scale_kind = slip.get("scale", "right")

    def fn(i, b, m, s, g=1.0):
        i = i + slip.get("shift", 0)
        s = s * slip.get("half", 1)
        if slip.get("swap"):
            b, m = m, b
        if cycle_kind == "0":
            c = math.floor(i / (2 * s))
        elif cycle_kind == "no-floor":
            c = 1 + i / (2 * s)
        else:
            c = math.floor(1 + i / (period * s))
        x = i / s - 2 * c + sign * x_shift
        x = abs(x) if use_abs else x
        t = max(0.0, 1 - x) if not slip.get("flip") else min(1.0, x)
        k = math.floor(1 + i / (2 * s))  # the true cycle, for the scales
        if mode == "triangular" or scale_kind == "none":
            scale = 1.0
        elif mode == "triangular2":
            scale = {
                "right": 1 / 2 ** (k - 1),
                "cycle-0": 1 / 2**k,
                "iteration": 1 / 2**i,
                "fraction": 1 / 2 ** (i / (2 * s)),
                "peak": 1 / 2 ** math.floor(i / s),
            }[scale_kind]
        else:
            scale = {
                "right": g**i,
                "gamma-cycle": g**k,
                "gamma-in-cycle": g ** (i % (2 * s)),
                "gamma-times": g * i,
                "linear": max(0.0, 1 - (1 - g) * i),
            }[scale_kind]
        low = 0.0 if slip.get("no_base") else b
        return (b + (m - b) * t) * scale if slip.get("whole") else low + (m - b) * t * scale

    return fn


def _common(mode: str) -> list[Mistake]:
    """Slips in the triangle, the same in all three policy exercises."""

    def make(name: str, what: str, shape: str, **slip: Any) -> Mistake:
        return Mistake(mode, name, what, _policy(mode, **slip), shape=shape)

    return [
        make("cycle-0-based", "`floor(i / (2 * step_size))` without the `1 +` (a 0-based cycle)",
             "flat-at-base", cycle="0"),
        make("sign-in-x", "a sign slip inside x (`- 1` where `+ 1` belongs)", "flat-at-base",
             sign=-1),
        make("no-floor", "the cycle not rounded down (no `floor`)", "flat-at-base",
             cycle="no-floor"),
        make("x-without-plus-1", "`x = |i / step_size - 2 * cycle|`: the `+ 1` missing",
             "peak-moved", x_shift=0),
        make("period-step-size", "the cycle counted with a period of `step_size` instead of "
             "`2 * step_size`", "rises-once", period=1),
        make("step-size-is-the-cycle", "step_size taken as the whole cycle (up and down in "
             "step_size iterations)", "period", half=0.5),
        make("no-abs", "the absolute value missing from x", "over-max", use_abs=False),
        make("swapped-bounds", "base_lr and max_lr swapped", "upside-down", swap=True),
        make("x-for-1-minus-x", "the triangle written as `x` instead of `1 - x`",
             "upside-down", flip=True),
        make("counted-from-1", "the iteration counted from 1 (the first batch as iteration 1)",
             "shifted-by-one", shift=1),
        make("base-forgotten", "base_lr left out: the rate is the height alone", "under-base",
             no_base=True),
    ]  # fmt: skip


def _policy_mistakes() -> list[Mistake]:
    def own(mode: str, name: str, what: str, hint: str, **slip: Any) -> Mistake:
        return Mistake(mode, name, what, _policy(mode, **slip), hint=hint)

    def shaped(mode: str, name: str, what: str, shape: str, **slip: Any) -> Mistake:
        return Mistake(mode, name, what, _policy(mode, **slip), shape=shape)

    return [
        *_common("triangular"),
        *_common("triangular2"),
        own("triangular2", "halving-off-by-one", "the amplitude divided by `2**cycle`: halved "
            "already in the first cycle", "The halving looks off by one cycle: the first cycle "
            "has the full height.", scale="cycle-0"),
        own("triangular2", "halving-per-iteration", "the amplitude halved every iteration "
            "(`2**i`)", "The height seems to halve at every iteration: triangular2 halves it "
            "once per whole cycle.", scale="iteration"),
        own("triangular2", "halving-fractional", "the amplitude halved by fractions of a cycle "
            "(`2**(i / (2 * step_size))`, no floor)", "The height seems to shrink a little at "
            "every iteration: triangular2 halves it in whole steps, once per cycle, and keeps it "
            "for the whole cycle.", scale="fraction"),
        own("triangular2", "halving-whole-rate", "the whole rate halved, base_lr included",
            "The halving seems to apply to the whole rate: triangular2 halves only the height "
            "above base_lr, so every cycle still starts at base_lr.", whole=True),
        shaped("triangular2", "halving-at-the-peak", "the height halved at every peak (half "
               "cycles counted), not at each cycle's start", "changes-within-cycle",
               scale="peak"),
        shaped("triangular2", "no-halving", "triangular2 written as triangular", "no-decay",
               scale="none"),
        *_common("exp_range"),
        own("exp_range", "gamma-to-cycle", "gamma raised to the cycle number instead of the "
            "iteration", "gamma seems to be raised to the cycle number: exp_range scales by "
            "gamma to the iteration.", scale="gamma-cycle"),
        own("exp_range", "gamma-whole-rate", "the decay applied to the whole rate (the paper's "
            "variant, mode 'exp_range_bounds')", "The decay seems to apply to the whole rate: "
            "that is the paper's exp_range (clr's mode 'exp_range_bounds'). This exercise asks "
            "for the original callback's, which scales only the height above base_lr.",
            whole=True),
        own("exp_range", "gamma-in-cycle", "gamma raised to the iteration within the cycle, "
            "restarting every cycle", "gamma seems to count the iterations since the cycle "
            "began: exp_range counts them from the start of training, so the decay carries on "
            "from cycle to cycle.", scale="gamma-in-cycle"),
        own("exp_range", "gamma-times-i", "the decay factor multiplied by the iteration "
            "(`gamma * i`) instead of raised to it", "Your height grows with the iteration: "
            "gamma to the power i (gamma multiplied by itself i times) shrinks, where gamma "
            "times i grows.", scale="gamma-times"),
        shaped("exp_range", "linear-decay", "the height shrunk along a straight line, "
               "`1 - (1 - gamma) * i`, instead of by `gamma**i`", "linear-decay",
               scale="linear"),
        shaped("exp_range", "no-decay", "exp_range written as triangular", "no-decay",
               scale="none"),
    ]  # fmt: skip


# -- 1cycle, right and wrong ----------------------------------------------------------------------


def one_cycle_reference(i: float, max_lr: float, total: int) -> float:
    return one_cycle(i, max_lr, total, pct_start=0.45, anneal_strategy="linear", three_phase=True)


def _linear_phases(i, max_lr, total, *, ends=(1, 2), start=None, low=None, swap=False, two=False):
    """1cycle's three linear phases with one slip: phase ``ends`` at ``0.45 T - ends[0]`` and
    ``0.9 T - ends[1]``; other ``start``/``low`` rates; ``swap`` the first two phases; ``two``
    phases only (down from the peak straight to the lowest rate)."""
    start = max_lr / 25 if start is None else start
    low = start / 1e4 if low is None else low
    up, down, last = 0.45 * total - ends[0], 0.9 * total - ends[1], total - 1
    first, peak = (max_lr, start) if swap else (start, max_lr)

    def lerp(a, b, t):
        return a + (b - a) * min(max(t, 0.0), 1.0)

    if i <= up:
        return lerp(first, peak, i / up)
    if two:
        return lerp(peak, low, (i - up) / (last - up))
    if i <= down:
        return lerp(peak, first, (i - up) / (down - up))
    return lerp(first, low, (i - down) / (last - down))


def _one_cycle_mistakes() -> list[Mistake]:
    def make(name, what, hint, low_of=None, **slip):
        def wrong(i, m, t):
            return _linear_phases(i, m, t, low=None if low_of is None else low_of(m), **slip)

        return Mistake("one_cycle", name, what, wrong, hint=hint)

    return [
        make("phases-swapped", "the first two phases swapped: down from max_lr first, then back "
             "up", "Your rate starts at its peak: 1cycle warms up first, from the low start up "
             "to max_lr, then comes back down.", swap=True),
        make("final-is-start", "the final rate taken as `max_lr / div_factor` (the tail stays at "
             "the start)", "The tail does not stay at the start: it anneals on down, far below "
             "where the run began (final_div_factor divides the start).", low_of=lambda m: m / 25),
        make("final-from-max", "the final rate taken as `max_lr / final_div_factor` (forgetting "
             "the start's `/ 25`)", "The tail ends too high: final_div_factor divides the "
             "starting rate (max_lr / 25), not max_lr.", low_of=lambda m: m / 1e4),
        make("phase-ends-late", "phases ending at `pct_start * total_steps` (PyTorch's `- 1` and "
             "`- 2` missing)", "Each phase ends an iteration or two late: in PyTorch's layout "
             "the peak is at iteration pct_start * total_steps - 1, counted from 0.",
             ends=(0, 0)),
        make("two-phases", "two phases (PyTorch's default layout) instead of the exercise's "
             "three", "After the peak your rate falls in one long phase: the exercise's 1cycle "
             "has three phases, back down to the start first, then the tail.", two=True),
        Mistake("one_cycle", "counted-from-1", "the iteration counted from 1",
                lambda i, m, t: one_cycle_reference(min(i + 1, t - 1), m, t),
                shape="shifted-by-one"),
    ]  # fmt: skip


# -- predictions, step size, bounds ---------------------------------------------------------------


def _predict(as_mode: str | None = None, factor: float = 1.0, **slip: Any) -> Callable[..., float]:
    """A wrong prediction: the curve of ``_policy`` with ``slip`` for the asked mode (or
    ``as_mode``'s), times ``factor``."""

    def fn(i, b, m, s, mode, gamma):
        return factor * _policy(as_mode or mode, **slip)(i, b, m, s, gamma)

    return fn


def _in_range(value: float, n: int, batch: int) -> bool:
    r = step_size_range(n, batch)
    return r.low <= value <= r.high


def _epoch(n: int, batch: int) -> int:
    return math.ceil(n / batch)


def _near(value: float, target: float, factor: float = 2.0) -> bool:
    return target / factor <= value <= target * factor


def _other_mistakes() -> list[Mistake]:
    return [
        Mistake("prediction", "no-halving", "triangular2 predicted as triangular: every peak at "
                "max_lr", _predict(as_mode="triangular"), hint="Your peaks all reach max_lr, as "
                "in triangular: in triangular2 the height halves every cycle."),
        Mistake("prediction", "halving-off-by-one", "the first cycle's peak already halved",
                _predict(scale="cycle-0"), hint="Your first peak is already halved: the first "
                "cycle has the full height, the halving starts with the second."),
        Mistake("prediction", "halving-whole-rate", "the whole rate halved: the troughs fall "
                "under base_lr", _predict(whole=True), hint="Your troughs fall under base_lr: "
                "the halving applies to the height above base_lr, so every cycle starts at "
                "base_lr."),
        Mistake("prediction", "starts-at-peak", "the cycle started at max_lr (peaks and troughs "
                "swapped)", _predict(swap=True), hint="Your cycle starts at the top: every "
                "cycle starts at base_lr and peaks after step_size iterations."),
        Mistake("prediction", "percent", "the rates written in percent (0.6 for 0.006)",
                _predict(factor=100.0), shape="percent"),
        Mistake("step_size", "epochs", "the step size given in epochs (say 4) instead of "
                "iterations", lambda n, batch: 4, hint="That looks like a number of epochs: "
                "step_size counts iterations (batches). An epoch is ceil(examples / batch_size) "
                "iterations.", recognise=lambda v, n, batch: v <= 10
                and _in_range(v * _epoch(n, batch), n, batch)),
        Mistake("step_size", "examples", "the step size counted in examples (4 epochs x 50,000) "
                "instead of iterations", lambda n, batch: 4 * n, hint="Did you count examples "
                "instead of iterations? An iteration is one batch: divide by batch_size.",
                recognise=lambda v, n, batch: v % batch == 0 and _in_range(v / batch, n, batch)),
        Mistake("step_size", "one-epoch", "one epoch's iterations (500) as the step size", _epoch,
                hint="That is one epoch: the paper's half cycle is 2 to 10 epochs.",
                recognise=lambda v, n, batch: v == _epoch(n, batch)),
        Mistake("step_size", "keras-batch-32", "the iterations per epoch computed with Keras' "
                "default batch of 32 (4 epochs = 6,250) instead of the paper's 100",
                lambda n, batch: 4 * n // 32, hint="That counts epochs of 32 images, Keras' "
                "default batch size: this exercise trains with batches of {batch_size}, so an "
                "epoch is {epoch} iterations.", recognise=lambda v, n, batch: batch != 32
                and any(abs(v - k * n / 32) <= k for k in range(2, 11))),
        Mistake("step_size", "whole-cycle", "the whole cycle (up and down, 2 x 10 epochs) given "
                "as the step size", lambda n, batch: 2 * step_size_range(n, batch).high,
                hint="That is more than 10 epochs per half cycle: step_size is half a cycle, "
                "from base_lr up to max_lr. Did you give the whole cycle?",
                recognise=lambda v, n, batch: v % 2 == 0 and _in_range(v / 2, n, batch)),
        Mistake("bounds", "swapped", "base_lr and max_lr swapped",
                lambda s, r: (s.max_lr, s.base_lr), hint="base_lr and max_lr look swapped: "
                "base_lr is the lower bound, where accuracy starts to rise.",
                recognise=lambda b, m, s, r: m < b and _near(m, s.base_lr)
                and _near(b, s.max_lr)),
        Mistake("bounds", "max-at-end", "max_lr read at the right of the plot, where the loss "
                "blows up or the sweep ends", lambda s, r: (s.base_lr, float(r.lr[-1])),
                hint="max_lr looks read where the loss blows up or the sweep ends: take it "
                "earlier, where the accuracy's rise slows or gets ragged, so training stays "
                "stable at the top of the cycle.",
                recognise=lambda b, m, s, r: _near(b, s.base_lr) and m > 2 * s.max_lr),
        Mistake("bounds", "base-at-start", "base_lr read at the first rate of the sweep, before "
                "accuracy moves", lambda s, r: (float(r.lr[0]), s.max_lr), hint="base_lr looks "
                "like the first rate of the sweep: take it where the accuracy starts to rise, "
                "not where the plot begins.", recognise=lambda b, m, s, r: b < s.base_lr / 2
                and b <= 2 * float(r.lr[0]) and _near(m, s.max_lr)),
    ]  # fmt: skip


MISTAKES: tuple[Mistake, ...] = tuple(
    _policy_mistakes() + _one_cycle_mistakes() + _other_mistakes()
)


def catalogue(exercise: str) -> list[Mistake]:
    """The catalogued mistakes of one exercise."""
    return [k for k in MISTAKES if k.exercise == exercise]
