"""Argument checks shared by every module, with Keras-style messages.

Each says what must hold, then ``Received: name=value``, and raises at construction, so a bad
argument never becomes a traceback from deep inside numpy or Keras, or a silently wrong curve.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_number", "check_int", "check_choice", "as_iterations"]


def check_number(
    name: str,
    value: Any,
    *,
    low: float,
    low_inclusive: bool = False,
    high: float | None = None,
    high_inclusive: bool = True,
) -> float:
    """``value`` as a float if it is a finite real in the range, else TypeError/ValueError.

    numpy scalars (``np.float32(0.99)``) are accepted like Python numbers; bools are not.
    """
    low_text = f"{'>=' if low_inclusive else '>'} {low:g}"
    if high is None:
        bound = low_text
    else:
        bound = (
            f"in {'[' if low_inclusive else '('}{low:g}, {high:g}{']' if high_inclusive else ')'}"
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a finite number {bound}. Received: {name}={value!r}")
    number = float(value)
    ok = math.isfinite(number) and (number >= low if low_inclusive else number > low)
    if high is not None:
        ok = ok and (number <= high if high_inclusive else number < high)
    if not ok:
        raise ValueError(f"`{name}` must be a finite number {bound}. Received: {name}={value!r}")
    return number


def check_int(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """``value`` as an int if it is an integer (Python or numpy) in ``[low, high]``."""
    bound = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer {bound}. Received: {name}={value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"`{name}` must be an integer {bound}. Received: {name}={value!r}")
    return int(value)


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """``value`` if it is one of ``choices``."""
    if not any(value == c and type(value) is type(c) for c in choices):
        raise ValueError(f"`{name}` must be one of {choices}. Received: {name}={value!r}")
    return value


def as_iterations(iterations: Any) -> np.ndarray:
    """Iterations as a float64 array, refusing non-numbers, NaN, inf and negatives."""
    message = "`iterations` must be a non-negative number or array of them."
    try:
        it = np.asarray(iterations)
    except Exception as err:  # ragged lists and the like
        raise TypeError(f"{message} Received: {iterations!r}") from err
    if it.dtype.kind not in "iuf":
        raise TypeError(f"{message} Received dtype {it.dtype} (iterations={iterations!r})")
    it = it.astype(np.float64, copy=False)
    bad = ~np.isfinite(it) | (it < 0)
    if bad.any():
        first = float(it[bad].flat[0])
        raise ValueError(
            f"`iterations` must be finite and >= 0. Received: iterations containing {first!r}"
        )
    return it
