"""Self-checking exercises for the workshop notebook (numpy only).

Each ``check_*`` runs a participant's answer against the reference on cases they do not see,
and prints either a confirmation (✓) or exactly what is wrong (✗): the first failing case
(which iteration and settings, expected versus got) and, when the answer matches a known
mistake on every case, a hint about it. It never prints the solution, and returns nothing, so
a notebook cell shows only the message.
"""

from __future__ import annotations

import math
from typing import Any, Callable


from ._policies import cyclic_lr, step_size_range

__all__ = ["check_triangular", "check_triangular2", "check_exp_range", "check_prediction", "check_step_size", "check_bounds"]

# Hidden cases: (base_lr, max_lr, step_size), iterations covering starts, peaks, descents and
# later cycles, where the usual mistakes show.
_SETTINGS = [(0.001, 0.006, 2000), (0.01, 0.1, 50), (0.0003, 0.0009, 7)]


def _iterations(step_size: int) -> list[int]:
    s = step_size
    return sorted({0, 1, s // 2, s, s + s // 2, 2 * s - 1, 2 * s, 3 * s, 4 * s + 1, 5 * s + s // 3, 9 * s})


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
        scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**i}[mode]
        return b + (m - b) * t * scale

    wrong = {
        "Your cycle looks 0-based: in the seed's formula the first cycle is cycle 1.": lambda i, b, m, s, g: scaled(i, b, m, s, g, cycle_shift=0),
        "It looks as if the absolute value is missing: x is the distance from the peak, |...|, so the rate also falls after the peak.": lambda i, b, m, s, g: scaled(i, b, m, s, g, use_abs=False),
        "It looks as if you used step_size as the whole cycle: step_size is half a cycle (base to peak).": lambda i, b, m, s, g: scaled(i, b, m, s, g, period=1),
        "base_lr and max_lr look swapped: the rate starts at base_lr.": lambda i, b, m, s, g: scaled(i, m, b, s, g),
    }
    if mode == "triangular2":
        wrong["The halving looks off by one cycle: the first cycle has the full height, 1 / 2**(cycle - 1)."] = (
            lambda i, b, m, s, g: tri(i, b, m, s)[0] + (m - b) * tri(i, b, m, s)[2] / 2 ** tri(i, b, m, s)[3]
        )
    if mode == "exp_range":
        wrong["gamma seems to be raised to the cycle number: exp_range scales by gamma**iteration."] = (
            lambda i, b, m, s, g: b + (m - b) * tri(i, b, m, s)[2] * g ** tri(i, b, m, s)[3]
        )
        wrong["The decay seems to apply to the whole rate: exp_range scales only the height above base_lr."] = (
            lambda i, b, m, s, g: (b + (m - b) * tri(i, b, m, s)[2]) * g**i
        )
    return wrong


def _check_policy(fn: Callable[..., Any], mode: str, gamma: float | None = None) -> bool:
    name = getattr(fn, "__name__", "your function")
    g = gamma if gamma is not None else 1.0
    cases = []  # (settings, iteration, expected, got)
    for base_lr, max_lr, step_size in _SETTINGS:
        args = (base_lr, max_lr, step_size) + ((g,) if mode == "exp_range" else ())
        for i in _iterations(step_size):
            try:
                got = float(fn(i, *args))
            except Exception as err:  # their code raised: say where, not how to fix
                print(f"✗ {name}{(i, *args)} raised {type(err).__name__}: {err}")
                return False
            cases.append(((base_lr, max_lr, step_size), i, cyclic_lr(i, base_lr, max_lr, step_size, mode=mode, gamma=g), got))
    close = lambda a, b: math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)  # noqa: E731
    wrong = [c for c in cases if not close(c[3], c[2])]
    if not wrong:
        print(f"✓ {name} matches the reference {mode} policy on every hidden case.")
        return True
    (base_lr, max_lr, step_size), i, expected, got = wrong[0]
    settings = f"base_lr={base_lr}, max_lr={max_lr}, step_size={step_size}" + (f", gamma={g}" if mode == "exp_range" else "")
    print(f"✗ At iteration {i} ({settings}): expected {expected:.6g}, got {got:.6g}.")
    # A known mistake is named only when the answer agrees with it on every hidden case.
    hint = next((h for h, f in _mistakes(mode).items() if all(close(f(i, *s, g), got) for s, i, _, got in cases)), None)
    print("  Hint: " + (hint or "compare your value with the curve in the explorer at that iteration."))
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


def check_prediction(predicted: dict[int, float], *, base_lr: float, max_lr: float, step_size: int, mode: str = "triangular", gamma: float = 1.0, tolerance: float = 0.05) -> None:
    """Predicted rates ``{iteration: lr}`` within ``tolerance`` of the height ``max_lr - base_lr``."""
    ok = True
    for i, guess in sorted(predicted.items()):
        actual = cyclic_lr(i, base_lr, max_lr, step_size, mode=mode, gamma=gamma)
        if abs(guess - actual) > tolerance * (max_lr - base_lr):
            ok = False
            print(f"✗ At iteration {i} you predicted {guess:.4g}; the {mode} policy gives {actual:.4g}.")
    if ok:
        print(f"✓ All {len(predicted)} predictions are within {tolerance:.0%} of the height.")


def check_step_size(step_size: int, *, train_examples: int, batch_size: int) -> None:
    """A step size of 2-10 epochs' worth of iterations (the paper's advice)."""
    r = step_size_range(train_examples, batch_size)
    if r.low <= step_size <= r.high:
        print(f"✓ {step_size} is {step_size / r.iterations_per_epoch:.3g} epochs per half cycle: inside the paper's 2-10.")
        return
    epochs = step_size / r.iterations_per_epoch
    if step_size > r.high:
        hint = "did you count examples instead of iterations? An epoch has ceil(examples / batch_size) iterations"
    else:
        hint = "that is under 2 epochs: count the iterations in an epoch first, then take 2-10 of them"
    print(f"✗ {step_size} iterations is {epochs:.3g} epochs per half cycle; the paper suggests 2-10 epochs. Hint: {hint}.")
    return


def check_bounds(base_lr: float, max_lr: float, result: Any, factor: float = 2.0) -> None:
    """Bounds read off a range test: within ``factor`` of the accuracy rule's suggestions."""
    s = result.suggest()
    if s.base_lr is None:
        print("This range test has no accuracy to read bounds from.")
        return
    problems = []
    if not base_lr < max_lr:
        problems.append("base_lr must be below max_lr")
    if not s.base_lr / factor <= base_lr <= s.base_lr * factor:
        problems.append(f"base_lr {base_lr:.3g} is far from where accuracy starts to rise: look further {'left' if base_lr > s.base_lr else 'right'}")
    if not s.max_lr / factor <= max_lr <= s.max_lr * factor:
        problems.append(f"max_lr {max_lr:.3g} is far from where the rise slows: look further {'left' if max_lr > s.max_lr else 'right'}")
    if problems:
        print("✗ " + "; ".join(problems) + ".")
        return
    print("✓ Reasonable bounds: close to where accuracy starts to rise and where the rise slows.")
    return
