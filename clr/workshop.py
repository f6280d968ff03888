"""Self-checking exercises for the workshop notebook (numpy only).

Each ``check_*`` runs a participant's answer against the reference on cases they do not see,
and prints either a confirmation (✓) or what is wrong (✗): the first failing case (which
iteration and settings, expected versus got, to 8 significant digits, and the difference) and,
when the answer matches a known mistake on every case, a hint about it. It never prints the
solution, and returns nothing, so a notebook cell shows only the message.

A correct answer computed in float32 (numpy's and Keras' usual dtype) passes: values are
compared to within float32's precision of the curve's height, not to the last float64 bit.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ._one_cycle import one_cycle
from ._policies import cyclic_lr, step_size_range

__all__ = [
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
# float32 keeps about 7 digits; a float32 formula loses a few more in i / step_size. Anything
# within this fraction of the curve's height is right; every known mistake is off by far more.
_RELATIVE_TOLERANCE = 2e-5


def _iterations(step_size: int) -> list[int]:
    s = step_size
    return sorted(
        {0, 1, s // 2, s, s + s // 2, 2 * s - 1, 2 * s, 3 * s, 4 * s + 1, 5 * s + s // 3, 9 * s}
    )


def _mistakes(mode: str) -> dict[str, Callable[..., float]]:
    """Wrong versions of the formula, each with the hint it earns (names are the hints)."""

    def tri(i, b, m, s, *, cycle_shift=1, use_abs=True, clip=True, period=2):
        cycle = math.floor(cycle_shift + i / (period * s))
        x = i / s - 2 * cycle + 1
        x = abs(x) if use_abs else x
        t = max(0.0, 1 - x) if clip else 1 - x
        return b, m, t, cycle

    def scaled(i, b, m, s, gamma, **kw):
        b, m, t, cycle = tri(i, b, m, s, **kw)
        scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**i}[
            mode
        ]
        return b + (m - b) * t * scale

    wrong = {
        # A 0-based and a 2-based cycle give the same wrong curve (the rate never leaves
        # base_lr), so one hint covers both.
        "Your cycle number looks off by one (0-based or one too many): the rate never leaves "
        "base_lr. In the original formula the first cycle is cycle 1.": lambda i, b, m, s, g: (
            scaled(i, b, m, s, g, cycle_shift=0)
        ),
        "It looks as if the absolute value is missing: x is the distance from the peak, |...|, so "
        "the rate also falls after the peak.": lambda i, b, m, s, g: scaled(
            i, b, m, s, g, use_abs=False
        ),
        "It looks as if you used step_size as the whole cycle: step_size is half a cycle (base to "
        "peak).": lambda i, b, m, s, g: scaled(i, b, m, s, g, period=1),
        "base_lr and max_lr look swapped: the rate starts at base_lr.": lambda i, b, m, s, g: (
            scaled(i, m, b, s, g)
        ),
    }
    if mode == "triangular2":
        wrong[
            "The halving looks off by one cycle: the first cycle has the full height, 1 / "
            "2**(cycle - 1)."
        ] = lambda i, b, m, s, g: (
            tri(i, b, m, s)[0] + (m - b) * tri(i, b, m, s)[2] / 2 ** tri(i, b, m, s)[3]
        )
    if mode == "exp_range":
        wrong[
            "gamma seems to be raised to the cycle number: exp_range scales by gamma**iteration."
        ] = lambda i, b, m, s, g: b + (m - b) * tri(i, b, m, s)[2] * g ** tri(i, b, m, s)[3]
        wrong[
            "The decay seems to apply to the whole rate: exp_range scales only the height above "
            "base_lr."
        ] = lambda i, b, m, s, g: (b + (m - b) * tri(i, b, m, s)[2]) * g**i
    return wrong


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


def _check_policy(fn: Callable[..., Any], mode: str, gamma: float | None = None) -> bool:
    name = getattr(fn, "__name__", "your function")
    g = gamma if gamma is not None else 1.0
    cases = []  # (settings, iteration, expected, got)
    for base_lr, max_lr, step_size in _SETTINGS:
        args = (base_lr, max_lr, step_size) + ((g,) if mode == "exp_range" else ())
        for i in _iterations(step_size):
            try:
                got = _run(fn, (i, *args))
            except _NotANumber as message:
                print(f"✗ {message}")
                return False
            cases.append(
                (
                    (base_lr, max_lr, step_size),
                    i,
                    cyclic_lr(i, base_lr, max_lr, step_size, mode=mode, gamma=g),
                    got,
                )
            )
    wrong = [c for c in cases if not _close(c[3], c[2], c[0][1] - c[0][0])]
    if not wrong:
        print(f"✓ {name} matches the reference {mode} policy on every hidden case.")
        return True
    (base_lr, max_lr, step_size) = wrong[0][0]
    _report_first(
        wrong[0],
        f"base_lr={base_lr}, max_lr={max_lr}, step_size={step_size}"
        + (f", gamma={g}" if mode == "exp_range" else ""),
    )
    # A known mistake is named only when the answer agrees with it on every hidden case.
    hint = next(
        (
            h
            for h, f in _mistakes(mode).items()
            if all(_close(got, f(i, *s, g), s[1] - s[0]) for s, i, _, got in cases)
        ),
        None,
    )
    print(
        "  Hint: "
        + (hint or "compare your value with the curve in the explorer at that iteration.")
    )
    return False


def check_triangular(fn: Callable[[int, float, float, int], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size) -> lr`` for the triangular policy."""
    _check_policy(fn, "triangular")


def check_triangular2(fn: Callable[[int, float, float, int], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size) -> lr`` for triangular2."""
    _check_policy(fn, "triangular2")


def check_exp_range(fn: Callable[[int, float, float, int, float], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size, gamma) -> lr`` for exp_range."""
    _check_policy(fn, "exp_range", gamma=0.9995)


def check_one_cycle(fn: Callable[[int, float, int], float]) -> None:
    """``fn(iteration, max_lr, total_steps) -> lr`` for 1cycle's three linear phases: up from
    ``max_lr / 25`` to ``max_lr`` at iteration ``0.45 * total_steps - 1``, back down to
    ``max_lr / 25`` at ``0.9 * total_steps - 2``, then to ``max_lr / 25 / 1e4`` at the end."""
    name = getattr(fn, "__name__", "your function")

    def reference(i: int, m: float, t: int) -> float:
        return one_cycle(i, m, t, pct_start=0.45, anneal_strategy="linear", three_phase=True)

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
                total - 2,
                total - 1,
            }
        ):
            try:
                got = _run(fn, (i, max_lr, total))
            except _NotANumber as message:
                print(f"✗ {message}")
                return
            cases.append(((max_lr, total), i, reference(i, max_lr, total), got))
    wrong = [c for c in cases if not _close(c[3], c[2], c[0][0])]
    if not wrong:
        print(f"✓ {name} matches 1cycle's three phases on every hidden case.")
        return
    max_lr, total = wrong[0][0]
    _report_first(wrong[0], f"max_lr={max_lr}, total_steps={total}")
    i, expected, got = wrong[0][1:]
    up, down = 0.45 * total - 1, 0.9 * total - 2
    phase = "rising" if i <= up else "falling back" if i <= down else "tail"
    start = max_lr / 25
    if phase == "tail" and _close(got, start, max_lr):
        hint = "the tail does not stay at the start: it anneals on down to max_lr / 25 / 1e4."
    elif abs(got) > abs(expected):
        hint = f"too high in the {phase} phase: check where that phase starts and ends."
    else:
        hint = f"too low in the {phase} phase: check where that phase starts and ends."
    print("  Hint: " + hint)


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
    the value."""
    if not isinstance(predicted, dict):
        print(
            f"✗ Give your predictions as a dict {{iteration: rate}}; got "
            f"{type(predicted).__name__}."
        )
        return
    missing = [i for i in iterations if i not in predicted]
    extra = [i for i in predicted if i not in iterations]
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
    wrong = []
    for i in iterations:
        if predicted[i] is None:
            print(f"✗ Fill in your prediction for iteration {i} (it is still None).")
            return
        try:
            guess = _as_number(predicted[i], f"your prediction for iteration {i}")
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
        return
    print(f"✓ All {len(iterations)} predictions are within {tolerance:.0%} of the height.")


def check_step_size(step_size: Any, *, train_examples: int, batch_size: int) -> None:
    """A step size of 2-10 epochs' worth of iterations (the paper's advice)."""
    if isinstance(step_size, (bool, np.bool_)) or not isinstance(step_size, numbers.Integral):
        print(f"✗ A step size counts iterations: give a whole number, not {step_size!r}.")
        return
    if step_size < 1:
        print(
            f"✗ {step_size} is not a step size: it counts iterations from base_lr up to max_lr, so "
            "it is at least 1."
        )
        return
    r = step_size_range(train_examples, batch_size)
    epochs = step_size / r.iterations_per_epoch
    if r.low <= step_size <= r.high:
        print(f"✓ {step_size} is {epochs:.3g} epochs per half cycle: inside the paper's 2-10.")
        return
    if step_size > r.high:
        hint = (
            "did you count examples instead of iterations? "
            "An epoch has ceil(examples / batch_size) iterations"
        )
    else:
        hint = (
            "that is under 2 epochs: count the iterations in an epoch first, then take 2-10 of them"
        )
    print(
        f"✗ {step_size} iterations is {epochs:.3g} epochs per half cycle; the paper suggests 2-10 "
        f"epochs. Hint: {hint}."
    )


def check_bounds(base_lr: float, max_lr: float, result: Any, factor: float = 2.0) -> None:
    """Bounds read off a range test: within ``factor`` of the accuracy rule's suggestions."""
    s = result.suggest()
    if s.base_lr is None:
        print("This range test has no accuracy to read bounds from.")
        return
    for name, value in (("base_lr", base_lr), ("max_lr", max_lr)):
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Real)
            or not value > 0
        ):
            print(
                f"✗ {name} must be a learning rate read off the plot (a number > 0); got {value!r}."
            )
            return
    problems = []
    if not base_lr < max_lr:
        problems.append("base_lr must be below max_lr")
    if not s.base_lr / factor <= base_lr <= s.base_lr * factor:
        problems.append(
            f"base_lr {base_lr:.3g} is far from where accuracy starts to rise: look further "
            f"{'left' if base_lr > s.base_lr else 'right'}"
        )
    if not s.max_lr / factor <= max_lr <= s.max_lr * factor:
        problems.append(
            f"max_lr {max_lr:.3g} is far from where the rise slows: look further "
            f"{'left' if max_lr > s.max_lr else 'right'}"
        )
    if problems:
        print("✗ " + "; ".join(problems) + ".")
        return
    print("✓ Reasonable bounds: close to where accuracy starts to rise and where the rise slows.")
