"""The checks participants call in the workshop notebook (numpy only).

Each ``check_*`` runs a participant's answer against the reference on cases they do not see,
and prints either a confirmation (✓) or what is wrong (✗): a case where the difference is
visible (a peak or a trough when there is one, with both values to 8 significant digits and
the difference) and a hint that names the mistake by what the values show. It never prints
the solution, and returns nothing, so a notebook cell shows only the message.

A mistake is recognised from the values on the hidden cases, never from source code: first a
catalogued mistake whose values single it out (``catalogue``), then the shape of the error
(``shapes``), else a general hint. Right answers pass in any form: Python or numpy numbers of
any type, 0-d or 1-element arrays, vectorised functions, whole floats where whole numbers are
expected, and values that differ from the reference only by floating-point rounding (float32
included: values are compared to within float32's precision of the curve's height).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._policies import cyclic_lr, step_size_range
from .answers import NotANumber, as_rate, count, plural, run, whole
from .catalogue import catalogue, one_cycle_reference
from .shapes import HINTS, Curve, describe, grid, where, witness

__all__ = [
    "check_triangular",
    "check_triangular2",
    "check_exp_range",
    "check_one_cycle",
    "check_prediction",
    "check_step_size",
    "check_bounds",
    "diagnose",
]

# Hidden settings: (base_lr, max_lr, step_size): a slow cycle, a fast one and a very short one.
SETTINGS = [(0.001, 0.006, 2000), (0.01, 0.1, 50), (0.0003, 0.0009, 7)]
GAMMA = 0.9995  # exp_range's hidden gamma
# float32 keeps about 7 digits; a float32 formula loses a few more in i / step_size. Anything
# within this fraction of the curve's height is right; every catalogued mistake is off by more.
RELATIVE_TOLERANCE = 2e-5


def _close(got: np.ndarray, expected: np.ndarray, height: float) -> np.ndarray:
    return np.abs(got - expected) <= RELATIVE_TOLERANCE * abs(height) + 1e-15


def _hint(text: str) -> None:
    print("  Hint: " + text)


def _values(fn: Callable[..., Any], args: tuple, iterations: np.ndarray) -> np.ndarray:
    return np.array([run(fn, (int(i), *args)) for i in iterations], dtype=np.float64)


def _curves(fn: Callable[..., Any], mode: str) -> list[Curve]:
    """The answer on every hidden setting, densely (raises NotANumber)."""
    curves = []
    for base_lr, max_lr, step_size in SETTINGS:
        settings = (base_lr, max_lr, step_size) + ((GAMMA,) if mode == "exp_range" else ())
        gamma = GAMMA if mode == "exp_range" else 1.0
        iterations = grid(step_size)
        expected = np.asarray(
            cyclic_lr(iterations, base_lr, max_lr, step_size, mode=mode, gamma=gamma), float
        )
        curves.append(Curve(settings, iterations, expected, _values(fn, settings, iterations)))
    return curves


def diagnose(mode: str, curves: list[Curve]) -> tuple[str, str, tuple[int, int] | None]:
    """``(name, hint, case)`` for a wrong policy: a catalogued mistake that its values single
    out, else the shape of its error (``shapes.describe``), else ``("general", ...)``; ``case``
    is (curve, index) of the case the hint names, if it names one."""
    for mistake in catalogue(mode):
        if mistake.hint is None:
            continue
        try:
            same = all(
                np.all(c.same(_values(mistake.wrong, c.settings, c.iterations))) for c in curves
            )
        except (NotANumber, ArithmeticError, ValueError):
            continue
        if same:
            return mistake.name, mistake.hint, None
    found = describe(mode, curves)
    if found is not None:
        key, values = found
        return key, HINTS[key].format(**values), values.get("_at")
    return "general", HINTS["general"], None


def _settings_text(settings: tuple[float, ...]) -> str:
    names = ("base_lr", "max_lr", "step_size", "gamma")
    return ", ".join(f"{n}={v}" for n, v in zip(names, settings))


def _report(curve: Curve, k: int, place: str) -> None:
    i, expected, got = int(curve.iterations[k]), curve.expected[k], curve.got[k]
    print(
        f"✗ At iteration {i:,} ({place}; {_settings_text(curve.settings)}): expected "
        f"{expected:.8g}, got {got:.8g} (off by {got - expected:+.2g})."
    )


def _check_policy(fn: Callable[..., Any], mode: str) -> None:
    name = getattr(fn, "__name__", "your function")
    try:
        curves = _curves(fn, mode)
    except NotANumber as message:
        print(f"✗ {message}")
        return
    if all(np.all(_close(c.got, c.expected, c.height)) for c in curves):
        print(f"✓ {name} matches the reference {mode} policy on every hidden case.")
        return
    _, hint, named = diagnose(mode, curves)
    curve, k = (curves[named[0]], named[1]) if named else witness(curves)
    _report(curve, k, where(int(curve.iterations[k]), curve.step_size))
    _hint(hint)


def check_triangular(fn: Callable[[int, float, float, int], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size) -> lr`` for the triangular policy."""
    _check_policy(fn, "triangular")


def check_triangular2(fn: Callable[[int, float, float, int], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size) -> lr`` for triangular2."""
    _check_policy(fn, "triangular2")


def check_exp_range(fn: Callable[[int, float, float, int, float], float]) -> None:
    """``fn(iteration, base_lr, max_lr, step_size, gamma) -> lr`` for exp_range."""
    _check_policy(fn, "exp_range")


# -- 1cycle ---------------------------------------------------------------------------------------

_ONE_CYCLE_SETTINGS = ((0.1, 1000), (0.004, 25_000), (1.0, 40))


def _one_cycle_iterations(total: int) -> np.ndarray:
    up, down = 0.45 * total - 1, 0.9 * total - 2
    keys = [0, 1, up, down, total - 2, total - 1]
    keys += [math.floor(up), math.ceil(up), math.floor(down), math.ceil(down)]
    points = np.concatenate([np.linspace(0, total - 1, 61), keys]).round().astype(int)
    return np.unique(points[(points >= 0) & (points < total)])


def check_one_cycle(fn: Callable[[int, float, int], float]) -> None:
    """``fn(iteration, max_lr, total_steps) -> lr`` for 1cycle's three linear phases: up from
    ``max_lr / 25`` to ``max_lr`` at iteration ``0.45 * total_steps - 1``, back down to
    ``max_lr / 25`` at ``0.9 * total_steps - 2``, then to ``max_lr / 25 / 1e4`` at the end."""
    name = getattr(fn, "__name__", "your function")
    curves = []
    try:
        for max_lr, total in _ONE_CYCLE_SETTINGS:
            iterations = _one_cycle_iterations(total)
            expected = np.array([one_cycle_reference(i, max_lr, total) for i in iterations])
            # Curve's base_lr/max_lr: the lowest rate and the peak, for scales and tolerances.
            settings = (0.0, max_lr, total)
            curves.append(Curve(settings, iterations, expected,
                                _values(fn, (max_lr, total), iterations)))  # fmt: skip
    except NotANumber as message:
        print(f"✗ {message}")
        return
    if all(np.all(_close(c.got, c.expected, c.max_lr)) for c in curves):
        print(f"✓ {name} matches 1cycle's three phases on every hidden case.")
        return
    curve, k = _largest(curves)
    max_lr, total = curve.max_lr, int(curve.step_size)
    i = int(curve.iterations[k])
    up, down = 0.45 * total - 1, 0.9 * total - 2
    phase = "rising" if i <= up else "falling back" if i <= down else "tail"
    _report_one_cycle(curve, k, phase, max_lr, total)
    _hint(_diagnose_one_cycle(curves, phase, curve.got[k] > curve.expected[k]))


def _largest(curves: list[Curve]) -> tuple[Curve, int]:
    best, best_off = (curves[0], 0), -1.0
    for curve in curves:
        off = np.abs(curve.got - curve.expected) / curve.max_lr
        k = int(np.argmax(off))
        if off[k] > best_off:
            best, best_off = (curve, k), float(off[k])
    return best


def _report_one_cycle(curve: Curve, k: int, phase: str, max_lr: float, total: int) -> None:
    i, expected, got = int(curve.iterations[k]), curve.expected[k], curve.got[k]
    print(
        f"✗ At iteration {i:,} ({phase} phase; max_lr={max_lr}, total_steps={total}): expected "
        f"{expected:.8g}, got {got:.8g} (off by {got - expected:+.2g})."
    )


def _diagnose_one_cycle(curves: list[Curve], phase: str, high: bool) -> str:
    for mistake in catalogue("one_cycle"):
        try:
            values = [_values(mistake.wrong, c.settings[1:], c.iterations) for c in curves]
        except (NotANumber, ArithmeticError, ValueError):
            continue
        if all(np.all(c.same(v, c.max_lr)) for c, v in zip(curves, values)):
            if mistake.hint is not None:
                return mistake.hint
            return HINTS[mistake.shape].format(direction="ahead", other="i + 1")
    return f"too {'high' if high else 'low'} in the {phase} phase: check where that phase starts " \
        "and ends."  # fmt: skip


# -- predictions, step size, bounds ---------------------------------------------------------------


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
        keys = {whole(k, f"iteration {k!r}"): v for k, v in predicted.items()}
    except NotANumber as message:
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
    guesses, actual = {}, {}
    for i in iterations:
        if keys[i] is None:
            print(f"✗ Fill in your prediction for iteration {i} (it is still None).")
            return
        try:
            guesses[i] = as_rate(keys[i], f"your prediction for iteration {i}")
        except NotANumber as message:
            print(f"✗ {message}")
            return
        actual[i] = float(cyclic_lr(i, base_lr, max_lr, step_size, mode=mode, gamma=gamma))
    wrong = [i for i in iterations if abs(guesses[i] - actual[i]) > tolerance * height]
    if not wrong:
        print(f"✓ All {len(iterations)} predictions are within {tolerance:.0%} of the height.")
        return
    named = _named_prediction(guesses, actual, iterations, (base_lr, max_lr, step_size), mode,
                              gamma, tolerance * height)  # fmt: skip
    parts = []
    for i in wrong:
        cycle = math.floor(1 + i / (2 * step_size))
        phase = i % (2 * step_size)
        at = "at a cycle's start" if phase == 0 else "at a peak" if phase == step_size else (
            "between a start and a peak")  # fmt: skip
        parts.append(f"iteration {i} (cycle {cycle}, {at}): too "
                     f"{'high' if guesses[i] > actual[i] else 'low'}")  # fmt: skip
    print(
        f"✗ {len(wrong)} of {len(iterations)} predictions are off by more than {tolerance:.0%} "
        "of the height: " + "; ".join(parts) + "."
    )
    if named:
        _hint(named)


def _named_prediction(guesses, actual, iterations, settings, mode, gamma, tolerance) -> str | None:
    """The hint for guesses that follow a catalogued wrong curve, or that are the right curve at
    another scale (in percent, say); None otherwise."""
    for mistake in catalogue("prediction"):
        if mistake.shape is not None:
            continue
        if all(abs(guesses[i] - mistake.wrong(i, *settings, mode, gamma)) <= tolerance
               for i in iterations):  # fmt: skip
            return mistake.hint
    ratios = [guesses[i] / actual[i] for i in iterations if actual[i] > 0]
    factor = float(np.median(ratios)) if ratios else 1.0
    if factor > 1.5 and all(abs(guesses[i] - factor * actual[i]) <= factor * tolerance
                            for i in iterations):  # fmt: skip
        shown = f"{factor:.3g}"
        return HINTS["percent" if 50 <= factor <= 200 else "scale"].format(factor=shown)
    return None


def check_step_size(step_size: Any, *, train_examples: int, batch_size: int) -> None:
    """A step size of 2-10 epochs' worth of iterations (the paper's advice). Whole floats
    (``4 * 50000 / 100``), numpy integers and 0-d arrays count like ints."""
    try:
        value = whole(step_size, "A step size")
    except NotANumber as message:
        print(f"✗ {message} It counts iterations.")
        return
    if value < 1:
        print(
            f"✗ {count(value)} is not a step size: it counts iterations from base_lr up to "
            "max_lr, so it is at least 1."
        )
        return
    r = step_size_range(train_examples, batch_size)
    epochs = value / r.iterations_per_epoch
    if r.low <= value <= r.high:
        print(f"✓ {count(value)} is {plural(epochs, 'epoch')} per half cycle: inside the "
              "paper's 2-10.")  # fmt: skip
        return
    hint = next(
        (k.hint for k in catalogue("step_size") if k.recognise(value, train_examples, batch_size)),
        "that is under 2 epochs: count the iterations in an epoch first, then take 2-10 of them"
        if value < r.low
        else "that is more than 10 epochs: count the iterations in an epoch, then take 2-10",
    )
    print(
        f"✗ {plural(value, 'iteration')} is {plural(epochs, 'epoch')} per half cycle; the paper "
        "suggests 2-10 epochs."
    )
    _hint(hint.format(batch_size=batch_size, epoch=r.iterations_per_epoch))


def check_bounds(base_lr: float, max_lr: float, result: Any) -> None:
    """Bounds read off a range test, by the paper's rule (``base_lr`` where the accuracy starts
    to rise, ``max_lr`` where the rise slows) or its other rule (``base_lr`` a third to a quarter
    of ``max_lr``).

    The tolerance is the test's own resolution (``Suggestions.resolution``: the rate between
    two accuracy readings): ``max_lr`` within two readings of where the rise slows, ``base_lr``
    within one of where it starts, and never at the sweep's first reading, where the accuracy
    has not moved yet."""
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
            number = as_rate(value, name) if value is not None else float("nan")
        except NotANumber:
            number = float("nan")
        if not number > 0 or not math.isfinite(number):
            print(
                f"✗ {name} must be a learning rate read off the plot (a number > 0); got {value!r}."
            )
            return
        values[name] = number
    base_lr, max_lr = values["base_lr"], values["max_lr"]
    step = s.resolution
    first = float(result.lr[0])
    max_ok = abs(max_lr - s.max_lr) <= 2 * step
    rule_ok = abs(base_lr - s.base_lr) <= step and base_lr > first + step / 2
    ratio_ok = max_ok and max_lr / 4 - step <= base_lr <= max_lr / 3 + step
    base_ok = rule_ok or ratio_ok
    if base_lr < max_lr and base_ok and max_ok:
        rule = " (the paper's 1/3-1/4 rule for base_lr)" if ratio_ok and not rule_ok else ""
        print(
            "✓ Reasonable bounds: where accuracy starts to rise and where the rise slows, to "
            f"within the test's resolution ({step:.2g}){rule}."
        )
        return
    problems = []
    if not base_lr < max_lr:
        problems.append("base_lr must be below max_lr")
    if not base_ok:
        side = "left" if base_lr > s.base_lr else "right"
        problems.append(f"base_lr {base_lr:.3g} is not where accuracy starts to rise: look "
                        f"further {side}")  # fmt: skip
    if not max_ok:
        side = "left" if max_lr > s.max_lr else "right"
        problems.append(f"max_lr {max_lr:.3g} is not where the rise slows: look further {side}")
    print("✗ " + "; ".join(problems) + ".")
    named = next(
        (k.hint for k in catalogue("bounds") if k.recognise(base_lr, max_lr, s, result)), None
    )
    if named:
        _hint(named)
