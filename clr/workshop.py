"""Self-checking exercises for the workshop notebook (numpy only).

Each ``check_*`` runs a participant's answer against the reference on cases they do not see,
and prints either a confirmation (✓) or what is wrong (✗): the first failing case (which
iteration and settings, expected versus got, to 8 significant digits, and the difference) and
a hint. It never prints the solution, and returns nothing, so a notebook cell shows only the
message.

The hints come from :data:`MISTAKES`, a catalogue of the mistakes participants make most
often, each with a wrong answer that makes it. A mistake is recognised from the participant's
values on the hidden cases (the shape of the error: the answer agrees with that wrong answer
on every case), never from their source code; an answer that matches none gets the general
hint. ``docs/workshop.md`` lists the catalogue for instructors.

Right answers pass in any form: Python or numpy numbers of any type, 0-d or 1-element arrays,
vectorised functions, whole floats where whole numbers are expected, and values that differ
from the reference only by floating-point rounding (float32 included: values are compared to
within float32's precision of the curve's height).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ._one_cycle import one_cycle
from ._policies import cyclic_lr, step_size_range

__all__ = [
    "MISTAKES",
    "Mistake",
    "check_triangular",
    "check_triangular2",
    "check_exp_range",
    "check_one_cycle",
    "check_prediction",
    "check_step_size",
    "check_bounds",
]

# Hidden cases: (base_lr, max_lr, step_size), iterations covering starts, peaks, descents and
# later cycles, where the usual mistakes show.
_SETTINGS = [(0.001, 0.006, 2000), (0.01, 0.1, 50), (0.0003, 0.0009, 7)]
_GAMMA = 0.9995  # exp_range's hidden gamma
# float32 keeps about 7 digits; a float32 formula loses a few more in i / step_size. Anything
# within this fraction of the curve's height is right; every catalogued mistake is off by more.
_RELATIVE_TOLERANCE = 2e-5
_GENERAL_HINT = "compare your value with the curve in the explorer at that iteration."


@dataclasses.dataclass(frozen=True)
class Mistake:
    """One typical mistake in one exercise.

    ``wrong`` is an answer that makes it, in the exercise's own form: a policy function
    ``(iteration, base_lr, max_lr, step_size[, gamma])`` or ``(iteration, max_lr,
    total_steps)``; for ``prediction`` the wrong rate ``(iteration, base_lr, max_lr,
    step_size, mode, gamma)``; for ``step_size`` the wrong value ``(train_examples,
    batch_size)``; for ``bounds`` the wrong ``(base_lr, max_lr)`` from ``(suggestions,
    result)``. ``recognise`` (step size and bounds only) tells the mistake from a value.
    """

    exercise: str
    name: str
    what: str  # for instructors: what the participant did
    hint: str  # for the participant: names the mistake, never gives the formula
    wrong: Callable[..., Any]
    recognise: Callable[..., bool] | None = None


# -- the policy formulas, right and wrong -------------------------------------------------------


def _triangle(i, b, m, s, *, cycle="1+", x_shift=1, use_abs=True, period=2):
    """Pieces of the triangle with one slip each: ``cycle`` "1+" (right), "0" (0-based) or
    "period" (period step_size); ``x_shift`` the + 1 in x; ``use_abs``; the cycle's ``period``
    in step sizes."""
    if cycle == "0":
        c = math.floor(i / (2 * s))
    else:
        c = math.floor(1 + i / (period * s))
    x = i / s - 2 * c + x_shift
    x = abs(x) if use_abs else x
    return max(0.0, 1 - x), c


def _policy(mode: str, **slip: Any) -> Callable[..., float]:
    """The policy ``mode`` with one slip in its triangle (``_triangle``'s keywords) or its scale:
    ``scale`` "cycle" (right), "cycle-0" (halving from the first cycle), "iteration" (halving
    per iteration), "fraction" (halving by fractions of a cycle), "gamma-cycle", "gamma-in-cycle"
    (gamma to the iteration within the cycle); ``whole`` scales the whole rate; ``swap`` the
    bounds."""
    scale_kind = slip.pop("scale", "right")
    whole = slip.pop("whole", False)
    swap = slip.pop("swap", False)

    def fn(i, b, m, s, g=1.0):
        if swap:
            b, m = m, b
        t, c = _triangle(i, b, m, s, **slip)
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = {
                "right": 1 / 2 ** (c - 1),
                "cycle-0": 1 / 2**c,
                "iteration": 1 / 2**i,
                "fraction": 1 / 2 ** (i / (2 * s)),
            }[scale_kind]
        else:
            scale = {
                "right": g**i,
                "gamma-cycle": g**c,
                "gamma-in-cycle": g ** (i % (2 * s)),
            }[scale_kind]
        return (b + (m - b) * t) * scale if whole else b + (m - b) * t * scale

    return fn


def _common(mode: str) -> list[Mistake]:
    """The triangle's slips, the same in all three policy exercises."""
    return [
        Mistake(
            mode,
            "cycle-0-based",
            "`floor(i / (2 * step_size))` without the `1 +` (a 0-based cycle), or a cycle one too "
            "many",
            "Your cycle number looks off by one (0-based or one too many): the rate never leaves "
            "base_lr. In the original formula the first cycle is cycle 1.",
            _policy(mode, cycle="0"),
        ),
        Mistake(
            mode,
            "x-without-plus-1",
            "`x = |i / step_size - 2 * cycle|`: the `+ 1` missing",
            "The peak comes at the end of each cycle instead of its middle, and the first half "
            "cycle stays at base_lr: x is off by one step size. Check the `+ 1` in x.",
            _policy(mode, x_shift=0),
        ),
        Mistake(
            mode,
            "period-step-size",
            "the cycle counted with a period of `step_size` instead of `2 * step_size`",
            "It looks as if a cycle lasts step_size iterations: step_size is half a cycle (base "
            "to peak), a cycle is two of them, so the rate rises once and never again.",
            _policy(mode, period=1),
        ),
        Mistake(
            mode,
            "no-abs",
            "the absolute value missing from x",
            "It looks as if the absolute value is missing: x is the distance from the peak, |...|, "
            "so the rate also falls after the peak.",
            _policy(mode, use_abs=False),
        ),
        Mistake(
            mode,
            "swapped-bounds",
            "base_lr and max_lr swapped",
            "base_lr and max_lr look swapped: the rate starts at base_lr.",
            _policy(mode, swap=True),
        ),
    ]


def _policy_mistakes() -> list[Mistake]:
    mistakes = _common("triangular") + _common("triangular2")
    mistakes += [
        Mistake(
            "triangular2",
            "halving-off-by-one",
            "the amplitude divided by `2**cycle`: halved already in the first cycle",
            "The halving looks off by one cycle: the first cycle has the full height.",
            _policy("triangular2", scale="cycle-0"),
        ),
        Mistake(
            "triangular2",
            "halving-per-iteration",
            "the amplitude halved every iteration (`2**i`)",
            "The height seems to halve at every iteration: triangular2 halves it once per whole "
            "cycle.",
            _policy("triangular2", scale="iteration"),
        ),
        Mistake(
            "triangular2",
            "halving-fractional",
            "the amplitude halved by fractions of a cycle (`2**(i / (2 * step_size))`, no floor)",
            "The height seems to shrink a little at every iteration: triangular2 halves it in "
            "whole steps, once per cycle, and keeps it for the whole cycle.",
            _policy("triangular2", scale="fraction"),
        ),
        Mistake(
            "triangular2",
            "halving-whole-rate",
            "the whole rate halved, base_lr included",
            "The halving seems to apply to the whole rate: triangular2 halves only the height "
            "above base_lr, so every cycle still starts at base_lr.",
            _policy("triangular2", whole=True),
        ),
    ]
    mistakes += _common("exp_range") + [
        Mistake(
            "exp_range",
            "gamma-to-cycle",
            "gamma raised to the cycle number instead of the iteration",
            "gamma seems to be raised to the cycle number: exp_range scales by gamma to the "
            "iteration.",
            _policy("exp_range", scale="gamma-cycle"),
        ),
        Mistake(
            "exp_range",
            "gamma-whole-rate",
            "the decay applied to the whole rate (the paper's variant, mode 'exp_range_bounds')",
            "The decay seems to apply to the whole rate: that is the paper's exp_range (clr's "
            "mode 'exp_range_bounds'). This exercise asks for the original callback's, which "
            "scales only the height above base_lr.",
            _policy("exp_range", whole=True),
        ),
        Mistake(
            "exp_range",
            "gamma-in-cycle",
            "gamma raised to the iteration within the cycle, restarting every cycle",
            "gamma seems to count the iterations since the cycle began: exp_range counts them "
            "from the start of training, so the decay carries on from cycle to cycle.",
            _policy("exp_range", scale="gamma-in-cycle"),
        ),
    ]
    return mistakes


# -- 1cycle, right and wrong ------------------------------------------------------------------


def _one_cycle_reference(i: float, max_lr: float, total: int) -> float:
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
        """A mistake whose wrong answer is ``_linear_phases`` with ``slip``; ``low_of(max_lr)``
        the wrong final rate."""

        def wrong(i, m, t):
            low = None if low_of is None else low_of(m)
            return _linear_phases(i, m, t, low=low, **slip)

        return Mistake("one_cycle", name, what, hint, wrong)

    return [
        make(
            "phases-swapped",
            "the first two phases swapped: down from max_lr first, then back up",
            "Your rate starts at its peak: 1cycle warms up first, from the low start up to "
            "max_lr, then comes back down.",
            swap=True,
        ),
        make(
            "final-is-start",
            "the final rate taken as `max_lr / div_factor` (the tail stays at the start)",
            "The tail does not stay at the start: it anneals on down, far below where the run "
            "began (final_div_factor divides the start).",
            low_of=lambda m: m / 25,
        ),
        make(
            "final-from-max",
            "the final rate taken as `max_lr / final_div_factor` (forgetting the start's `/ 25`)",
            "The tail ends too high: final_div_factor divides the starting rate (max_lr / 25), "
            "not max_lr.",
            low_of=lambda m: m / 1e4,
        ),
        make(
            "phase-ends-late",
            "phases ending at `pct_start * total_steps` (PyTorch's `- 1` and `- 2` missing)",
            "Each phase ends an iteration or two late: in PyTorch's layout the peak is at "
            "iteration pct_start * total_steps - 1, counted from 0.",
            ends=(0, 0),
        ),
        make(
            "two-phases",
            "two phases (PyTorch's default layout) instead of the exercise's three",
            "After the peak your rate falls in one long phase: the exercise's 1cycle has three "
            "phases, back down to the start first, then the tail.",
            two=True,
        ),
    ]


# -- predictions, step size, bounds ---------------------------------------------------------------


def _predict(**slip: Any) -> Callable[..., float]:
    """A wrong prediction: the curve of ``_policy`` with ``slip``, for the asked mode (or
    triangular's curve with ``as_mode``)."""
    as_mode = slip.pop("as_mode", None)

    def fn(i, b, m, s, mode, gamma):
        return _policy(as_mode or mode, **slip)(i, b, m, s, gamma)

    return fn


def _other_mistakes() -> list[Mistake]:
    def per_epoch(n, batch):
        return math.ceil(n / batch)

    def in_range(value, n, batch):
        r = step_size_range(n, batch)
        return r.low <= value <= r.high

    return [
        Mistake(
            "prediction",
            "no-halving",
            "triangular2 predicted as triangular: every peak at max_lr",
            "Your peaks all reach max_lr, as in triangular: in triangular2 the height halves "
            "every cycle.",
            _predict(as_mode="triangular"),
        ),
        Mistake(
            "prediction",
            "halving-off-by-one",
            "the first cycle's peak already halved",
            "Your first peak is already halved: the first cycle has the full height, the halving "
            "starts with the second.",
            _predict(scale="cycle-0"),
        ),
        Mistake(
            "prediction",
            "halving-whole-rate",
            "the whole rate halved: the troughs fall under base_lr",
            "Your troughs fall under base_lr: the halving applies to the height above base_lr, so "
            "every cycle starts at base_lr.",
            _predict(whole=True),
        ),
        Mistake(
            "prediction",
            "starts-at-peak",
            "the cycle started at max_lr (peaks and troughs swapped)",
            "Your cycle starts at the top: every cycle starts at base_lr and peaks after "
            "step_size iterations.",
            _predict(swap=True),
        ),
        Mistake(
            "step_size",
            "epochs",
            "the step size given in epochs (say 4) instead of iterations",
            "That looks like a number of epochs: step_size counts iterations (batches). An epoch "
            "is ceil(examples / batch_size) iterations.",
            lambda n, batch: 4,
            lambda v, n, batch: v <= 10 and in_range(v * per_epoch(n, batch), n, batch),
        ),
        Mistake(
            "step_size",
            "examples",
            "the step size counted in examples (4 epochs x 50,000) instead of iterations",
            "Did you count examples instead of iterations? An iteration is one batch: divide by "
            "batch_size.",
            lambda n, batch: 4 * n,
            lambda v, n, batch: v % batch == 0 and in_range(v / batch, n, batch),
        ),
        Mistake(
            "step_size",
            "one-epoch",
            "one epoch's iterations (500) as the step size",
            "That is one epoch: the paper's half cycle is 2 to 10 epochs.",
            per_epoch,
            lambda v, n, batch: v == per_epoch(n, batch),
        ),
        Mistake(
            "step_size",
            "whole-cycle",
            "the whole cycle (up and down, 2 x 10 epochs) given as the step size",
            "That is more than 10 epochs per half cycle: step_size is half a cycle, from base_lr "
            "up to max_lr. Did you give the whole cycle?",
            lambda n, batch: 2 * step_size_range(n, batch).high,
            lambda v, n, batch: in_range(v / 2, n, batch),
        ),
        Mistake(
            "bounds",
            "swapped",
            "base_lr and max_lr swapped",
            "base_lr and max_lr look swapped: base_lr is the lower bound, where accuracy starts "
            "to rise.",
            lambda s, r: (s.max_lr, s.base_lr),
            lambda b, m, s, r: m < b and _near(m, s.base_lr) and _near(b, s.max_lr),
        ),
        Mistake(
            "bounds",
            "max-at-end",
            "max_lr read at the right of the plot, where the loss blows up or the sweep ends",
            "max_lr looks read where the loss blows up or the sweep ends: take it earlier, where "
            "the accuracy's rise slows or gets ragged, so training stays stable at the top of the "
            "cycle.",
            lambda s, r: (s.base_lr, float(r.lr[-1])),
            lambda b, m, s, r: _near(b, s.base_lr) and m > 2 * s.max_lr,
        ),
        Mistake(
            "bounds",
            "base-at-start",
            "base_lr read at the first rate of the sweep, before accuracy moves",
            "base_lr looks like the first rate of the sweep: take it where the accuracy starts to "
            "rise, not where the plot begins.",
            lambda s, r: (float(r.lr[0]), s.max_lr),
            lambda b, m, s, r: b < s.base_lr / 2 and b <= 2 * float(r.lr[0]) and _near(m, s.max_lr),
        ),
    ]


def _near(value: float, target: float, factor: float = 2.0) -> bool:
    return target / factor <= value <= target * factor


MISTAKES: tuple[Mistake, ...] = tuple(
    _policy_mistakes() + _one_cycle_mistakes() + _other_mistakes()
)


def _catalogue(exercise: str) -> list[Mistake]:
    return [k for k in MISTAKES if k.exercise == exercise]


# -- reading the participant's values ----------------------------------------------------------


class _NotANumber(Exception):
    """A participant's function gave something that is not one number; the message says what."""


def _as_number(value: Any, call: str) -> float:
    """A participant's return value as a float, or a message that names what came back."""
    if value is None:
        raise _NotANumber(f"{call} returned None: is a `return` missing?")
    if isinstance(value, (bool, np.bool_)):
        raise _NotANumber(f"{call} returned {value!r}, a bool: return the rate, a number.")
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        array = np.asarray(value)
        if array.size != 1:
            raise _NotANumber(
                f"{call} returned an array of shape {array.shape}: return one number for one "
                "iteration."
            )
        value = array.reshape(()).item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        # An integer rate is almost always integer division (//) or a rounded result.
        raise _NotANumber(
            f"{call} returned the integer {value!r}: a learning rate is a fraction. Is there a // "
            "or int() in it?"
        )
    if not isinstance(value, numbers.Real):
        raise _NotANumber(
            f"{call} returned {type(value).__name__} {value!r}: give the rate as a number."
        )
    if not math.isfinite(value):
        # numpy answers 0/0 and x/0 with nan and inf where Python would raise.
        raise _NotANumber(
            f"{call} returned {float(value)!r}: is something divided by a value that is 0 at "
            "this iteration?"
        )
    return float(value)


def _run(fn: Callable[..., Any], args: tuple) -> float:
    name = getattr(fn, "__name__", "your function")
    call = f"{name}{args}"
    try:
        value = fn(*args)
    except Exception as err:  # their code raised: say where, not how to fix
        raise _NotANumber(f"{call} raised {type(err).__name__}: {err}") from None
    return _as_number(value, call)


def _close(got: float, expected: float, height: float) -> bool:
    return math.isfinite(got) and abs(got - expected) <= _RELATIVE_TOLERANCE * abs(height) + 1e-15


def _report_first(case: tuple, settings: str) -> None:
    _, i, expected, got = case
    print(
        f"✗ At iteration {i} ({settings}): expected {expected:.8g}, got {got:.8g} (off by "
        f"{got - expected:+.2g})."
    )


def _named(exercise: str, cases: list[tuple], height: Callable[[tuple], float]) -> str | None:
    """The hint of the catalogued mistake whose wrong answer agrees with the participant's on
    every case ``(settings, iteration, expected, got)``, or None."""
    for mistake in _catalogue(exercise):
        try:
            if all(_close(got, mistake.wrong(i, *s), height(s)) for s, i, _, got in cases):
                return mistake.hint
        except (ArithmeticError, ValueError):
            continue
    return None


def _hint(text: str | None) -> None:
    print("  Hint: " + (text or _GENERAL_HINT))


# -- the checks ------------------------------------------------------------------------------


def _iterations(step_size: int) -> list[int]:
    s = step_size
    return sorted(
        {0, 1, s // 2, s, s + s // 2, 2 * s - 1, 2 * s, 3 * s, 4 * s + 1, 5 * s + s // 3, 9 * s}
    )


def _check_policy(fn: Callable[..., Any], mode: str) -> bool:
    name = getattr(fn, "__name__", "your function")
    g = _GAMMA if mode == "exp_range" else 1.0
    cases = []  # (settings, iteration, expected, got)
    for base_lr, max_lr, step_size in _SETTINGS:
        args = (base_lr, max_lr, step_size) + ((g,) if mode == "exp_range" else ())
        for i in _iterations(step_size):
            try:
                got = _run(fn, (i, *args))
            except _NotANumber as message:
                print(f"✗ {message}")
                return False
            expected = cyclic_lr(i, base_lr, max_lr, step_size, mode=mode, gamma=g)
            cases.append((args, i, expected, got))
    wrong = [c for c in cases if not _close(c[3], c[2], c[0][1] - c[0][0])]
    if not wrong:
        print(f"✓ {name} matches the reference {mode} policy on every hidden case.")
        return True
    base_lr, max_lr, step_size = wrong[0][0][:3]
    _report_first(
        wrong[0],
        f"base_lr={base_lr}, max_lr={max_lr}, step_size={step_size}"
        + (f", gamma={g}" if mode == "exp_range" else ""),
    )
    _hint(_named(mode, cases, lambda s: s[1] - s[0]))
    return False


def check_triangular(fn: Callable[[int, float, float, int], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size) -> lr`` for the triangular policy."""
    _check_policy(fn, "triangular")


def check_triangular2(fn: Callable[[int, float, float, int], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size) -> lr`` for triangular2."""
    _check_policy(fn, "triangular2")


def check_exp_range(fn: Callable[[int, float, float, int, float], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size, gamma) -> lr`` for exp_range."""
    _check_policy(fn, "exp_range")


def check_one_cycle(fn: Callable[[int, float, int], float]) -> None:
    """``fn(iteration, max_lr, total_steps) -> lr`` for 1cycle's three linear phases: up from
    ``max_lr / 25`` to ``max_lr`` at iteration ``0.45 * total_steps - 1``, back down to
    ``max_lr / 25`` at ``0.9 * total_steps - 2``, then to ``max_lr / 25 / 1e4`` at the end."""
    name = getattr(fn, "__name__", "your function")
    cases = []
    for max_lr, total in ((0.1, 1000), (0.004, 25_000), (1.0, 40)):
        up, down = 0.45 * total - 1, 0.9 * total - 2
        for i in sorted(
            {
                0,
                1,
                int(up) // 2,
                math.floor(up),
                math.ceil(up),
                int((up + down) / 2),
                math.floor(down),
                math.ceil(down),
                int((down + total) / 2),
                total - 2,
                total - 1,
            }
        ):
            try:
                got = _run(fn, (i, max_lr, total))
            except _NotANumber as message:
                print(f"✗ {message}")
                return
            cases.append(((max_lr, total), i, _one_cycle_reference(i, max_lr, total), got))
    wrong = [c for c in cases if not _close(c[3], c[2], c[0][0])]
    if not wrong:
        print(f"✓ {name} matches 1cycle's three phases on every hidden case.")
        return
    max_lr, total = wrong[0][0]
    _report_first(wrong[0], f"max_lr={max_lr}, total_steps={total}")
    hint = _named("one_cycle", cases, lambda s: s[0])
    if hint is None:
        i, expected, got = wrong[0][1:]
        up, down = 0.45 * total - 1, 0.9 * total - 2
        phase = "rising" if i <= up else "falling back" if i <= down else "tail"
        side = "high" if abs(got) > abs(expected) else "low"
        hint = f"too {side} in the {phase} phase: check where that phase starts and ends."
    _hint(hint)


def check_prediction(
    predicted: Any,
    *,
    iterations: tuple[int, ...],
    base_lr: float,
    max_lr: float,
    step_size: int,
    mode: str = "triangular",
    gamma: float = 1.0,
    tolerance: float = 0.05,
) -> None:
    """Predicted rates ``{iteration: lr}`` for every one of ``iterations``, each within
    ``tolerance`` of the height ``max_lr - base_lr``. A wrong guess gets a direction, never
    the value, and a named hint when the guesses follow a typical wrong curve."""
    if not isinstance(predicted, dict):
        print(
            f"✗ Give your predictions as a dict {{iteration: rate}}; got "
            f"{type(predicted).__name__}."
        )
        return
    try:
        keys = {_whole(k, f"iteration {k!r}"): v for k, v in predicted.items()}
    except _NotANumber as message:
        print(f"✗ {message}")
        return
    missing = [i for i in iterations if i not in keys]
    extra = [i for i in keys if i not in iterations]
    if missing or extra:
        parts = ([f"missing iterations {missing}"] if missing else []) + (
            [f"iterations not asked for {extra}"] if extra else []
        )
        print(
            f"✗ Predict the rate at exactly these iterations: {list(iterations)} "
            f"({'; '.join(parts)})."
        )
        return
    height = max_lr - base_lr
    wrong, guesses = [], {}
    for i in iterations:
        if keys[i] is None:
            print(f"✗ Fill in your prediction for iteration {i} (it is still None).")
            return
        try:
            guesses[i] = guess = _as_rate(keys[i], f"your prediction for iteration {i}")
        except _NotANumber as message:
            print(f"✗ {message}")
            return
        actual = cyclic_lr(i, base_lr, max_lr, step_size, mode=mode, gamma=gamma)
        if abs(guess - actual) > tolerance * height:
            cycle = math.floor(1 + i / (2 * step_size))
            where = (
                "at a cycle's start"
                if i % (2 * step_size) == 0
                else "at a peak"
                if i % (2 * step_size) == step_size
                else "between a start and a peak"
            )
            if guess > actual:
                why = (
                    " (the height halves every cycle)"
                    if mode == "triangular2" and cycle > 1
                    else ""
                )
                wrong.append(f"iteration {i} (cycle {cycle}, {where}): too high{why}")
            else:
                wrong.append(f"iteration {i} (cycle {cycle}, {where}): too low")
    if wrong:
        print(
            f"✗ {len(wrong)} of {len(iterations)} predictions are off by more than {tolerance:.0%} "
            "of the height: " + "; ".join(wrong) + "."
        )
        for mistake in _catalogue("prediction"):
            if all(
                abs(guesses[i] - mistake.wrong(i, base_lr, max_lr, step_size, mode, gamma))
                <= tolerance * height
                for i in iterations
            ):
                _hint(mistake.hint)
                break
        return
    print(f"✓ All {len(iterations)} predictions are within {tolerance:.0%} of the height.")


def _as_rate(value: Any, what: str) -> float:
    """A rate given by hand: any real number (an int is fine here: nobody divides)."""
    if isinstance(value, (bool, np.bool_)):
        raise _NotANumber(f"{what} is {value!r}, a bool: give a rate, a number.")
    array = np.asarray(value) if not isinstance(value, numbers.Real) else None
    if array is not None:
        if array.size != 1 or array.dtype.kind not in "iuf":
            raise _NotANumber(f"{what} is {value!r}: give one number.")
        value = array.reshape(()).item()
    return float(value)


def _whole(value: Any, what: str) -> int:
    """A whole number given in any form (int, numpy integer, whole float, 0-d array), or a
    message that names what came instead."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        raise _NotANumber(f"{what} must be a whole number, not {value!r}.")
    if not isinstance(value, numbers.Real):
        array = np.asarray(value)
        if array.size != 1 or array.dtype.kind not in "iuf":
            raise _NotANumber(f"{what} must be a whole number, not {value!r}.")
        value = array.reshape(()).item()
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if not math.isfinite(number) or number != round(number):
        raise _NotANumber(
            f"{what} must be a whole number of iterations, not {value!r}: round it, e.g. "
            f"{round(number) if math.isfinite(number) else 2000}."
        )
    return int(number)


def _count(value: int) -> str:
    # A whole number typed by mistake can have hundreds of digits.
    return str(value) if abs(value) < 10**12 else f"{value:.3g}"


def check_step_size(step_size: Any, *, train_examples: int, batch_size: int) -> None:
    """A step size of 2-10 epochs' worth of iterations (the paper's advice). Whole floats
    (``4 * 50000 / 100``), numpy integers and 0-d arrays count like ints."""
    try:
        value = _whole(step_size, "A step size")
    except _NotANumber as message:
        print(f"✗ {message} It counts iterations.")
        return
    if value < 1:
        print(
            f"✗ {_count(value)} is not a step size: it counts iterations from base_lr up to "
            "max_lr, so it is at least 1."
        )
        return
    r = step_size_range(train_examples, batch_size)
    epochs = value / r.iterations_per_epoch
    if r.low <= value <= r.high:
        print(f"✓ {_count(value)} is {epochs:.3g} epochs per half cycle: inside the paper's 2-10.")
        return
    hint = next(
        (k.hint for k in _catalogue("step_size") if k.recognise(value, train_examples, batch_size)),
        "that is under 2 epochs: count the iterations in an epoch first, then take 2-10 of them"
        if value < r.low
        else "that is more than 10 epochs: count the iterations in an epoch, then take 2-10",
    )
    print(
        f"✗ {_count(value)} iterations is {epochs:.4g} epochs per half cycle; the paper suggests "
        "2-10 epochs."
    )
    _hint(hint)


def check_bounds(base_lr: float, max_lr: float, result: Any, factor: float = 2.0) -> None:
    """Bounds read off a range test: within ``factor`` of the accuracy rule's suggestions, or
    the paper's other rule (``base_lr`` a third to a quarter of a good ``max_lr``)."""
    if not callable(getattr(result, "suggest", None)):
        print(
            f"✗ `result` must be what clr.lr_range_test returned (a RangeTestResult); got "
            f"{type(result).__name__}."
        )
        return
    s = result.suggest()
    if s.base_lr is None:
        print("This range test has no accuracy to read bounds from.")
        return
    values = {}
    for name, value in (("base_lr", base_lr), ("max_lr", max_lr)):
        try:
            number = _as_rate(value, name) if value is not None else float("nan")
        except _NotANumber:
            number = float("nan")
        if not number > 0 or not math.isfinite(number):
            print(
                f"✗ {name} must be a learning rate read off the plot (a number > 0); got {value!r}."
            )
            return
        values[name] = number
    base_lr, max_lr = values["base_lr"], values["max_lr"]
    max_ok = s.max_lr / factor <= max_lr <= s.max_lr * factor
    # Smith's alternative: base_lr = max_lr / 3 or / 4 (within rounding).
    ratio_ok = max_ok and max_lr / 4.5 <= base_lr <= max_lr / 2.5
    base_ok = s.base_lr / factor <= base_lr <= s.base_lr * factor or ratio_ok
    if base_lr < max_lr and base_ok and max_ok:
        rule = "the paper's 1/3-1/4 rule" if ratio_ok and not _near(base_lr, s.base_lr) else None
        print(
            "✓ Reasonable bounds: close to where accuracy starts to rise and where the rise "
            "slows" + (f" ({rule} for base_lr)." if rule else ".")
        )
        return
    problems = []
    if not base_lr < max_lr:
        problems.append("base_lr must be below max_lr")
    if not base_ok:
        problems.append(
            f"base_lr {base_lr:.3g} is far from where accuracy starts to rise: look further "
            f"{'left' if base_lr > s.base_lr else 'right'}"
        )
    if not max_ok:
        problems.append(
            f"max_lr {max_lr:.3g} is far from where the rise slows: look further "
            f"{'left' if max_lr > s.max_lr else 'right'}"
        )
    print("✗ " + "; ".join(problems) + ".")
    named = next(
        (k.hint for k in _catalogue("bounds") if k.recognise(base_lr, max_lr, s, result)), None
    )
    if named:
        _hint(named)


# -- the catalogue for instructors ---------------------------------------------------------------


def _toy_range_test() -> Any:
    """A linear sweep whose accuracy rises from 0.002 to 0.008: a known answer for the bounds."""
    from .range_test import RangeTestResult, smooth_losses

    lr = np.linspace(0.0001, 0.02, 400)
    acc = np.interp(lr, [0, 0.002, 0.008, 0.02], [0.1, 0.1, 0.7, 0.7])
    loss = 2.3 - acc
    empty = np.array([], int)
    return RangeTestResult(
        lr, loss, smooth_losses(loss, 0.0), acc, empty, np.array([]), None, "linear", 0.0001,
        0.02, 400,
    )  # fmt: skip


def output_for(mistake: Mistake) -> str:
    """What the exercise's check prints for the wrong answer that makes ``mistake`` (the
    prediction exercise as the notebook asks it: triangular2 at 0-10,000)."""
    import contextlib
    import io

    out = io.StringIO()
    checks = {
        "triangular": check_triangular,
        "triangular2": check_triangular2,
        "exp_range": check_exp_range,
        "one_cycle": check_one_cycle,
    }
    with contextlib.redirect_stdout(out):
        if mistake.exercise in checks:
            checks[mistake.exercise](mistake.wrong)
        elif mistake.exercise == "prediction":
            asked = dict(base_lr=0.001, max_lr=0.006, step_size=2000, mode="triangular2")
            iterations = (0, 2000, 4000, 6000, 10_000)
            guess = {i: mistake.wrong(i, *asked.values(), 1.0) for i in iterations}
            check_prediction(guess, iterations=iterations, **asked)
        elif mistake.exercise == "step_size":
            check_step_size(mistake.wrong(50_000, 100), train_examples=50_000, batch_size=100)
        else:
            result = _toy_range_test()
            check_bounds(*mistake.wrong(result.suggest(), result), result)
    return out.getvalue()


def catalogue_markdown() -> str:
    """The catalogue as a markdown table for instructors, each hint as the check prints it,
    and the share of mistakes that get their own hint (measured by running each one)."""
    named = [k for k in MISTAKES if f"Hint: {k.hint}" in output_for(k)]

    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # a bare | would end the table's cell

    lines = [
        "| exercise | the mistake | the hint it gets |",
        "| --- | --- | --- |",
        *(f"| {k.exercise} | {cell(k.what)} | {cell(k.hint)} |" for k in MISTAKES),
        "",
        f"{len(named)} of {len(MISTAKES)} catalogued mistakes get their own hint.",
    ]
    return "\n".join(lines)
