"""Argument checks shared by every module, with Keras-style messages.

Each says what must hold, then ``Received: name=value``, and raises at construction, so a bad
argument never becomes a traceback from deep inside numpy or Keras, or a silently wrong curve.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "check_number",
    "check_int",
    "check_whole",
    "check_choice",
    "check_float32",
    "checked_fields",
    "as_iterations",
    "MAX_ITERATIONS",
]

# Beyond 2**53 float64 no longer counts every iteration; the policies are defined up to here.
MAX_ITERATIONS = 2.0**53
_F32 = np.finfo(np.float32)


def _received(name: str, value: Any) -> str:
    hint = (
        " (a numpy array: pass a plain number, e.g. float(x))"
        if isinstance(value, np.ndarray)
        else ""
    )
    return f"Received: {name}={value!r}{hint}"


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
        raise TypeError(f"`{name}` must be a finite number {bound}. {_received(name, value)}")
    number = float(value)
    ok = math.isfinite(number) and (number >= low if low_inclusive else number > low)
    if high is not None:
        ok = ok and (number <= high if high_inclusive else number < high)
    if not ok:
        raise ValueError(f"`{name}` must be a finite number {bound}. {_received(name, value)}")
    return number


def check_int(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """``value`` as an int if it is an integer (Python or numpy) in ``[low, high]``."""
    bound = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer {bound}. {_received(name, value)}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"`{name}` must be an integer {bound}. {_received(name, value)}")
    return int(value)


def check_whole(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """Like :func:`check_int`, but a whole float (``16000.0``, ``np.float32(2000)``) counts too;
    fractions, NaN and infinities do not."""
    if (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_, numbers.Integral))
        and math.isfinite(float(value))
        and float(value) == round(float(value))
        and abs(float(value)) <= MAX_ITERATIONS
    ):
        value = int(round(float(value)))
    bound = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, numbers.Real) and not isinstance(
        value, (bool, np.bool_, numbers.Integral)
    ):
        raise ValueError(f"`{name}` must be a whole number {bound}. {_received(name, value)}")
    return check_int(name, value, low=low, high=high)


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """``value`` if it is one of ``choices``; a ``str`` subclass such as ``np.str_`` counts as
    the plain ``str`` it equals (and is returned as one)."""
    if isinstance(value, str) and not isinstance(value, np.ndarray):
        value = str(value)
    # The type first: an array compared with == gives an array, whose truth value raises.
    if not any(type(value) is type(c) and value == c for c in choices):
        raise ValueError(f"`{name}` must be one of {choices}. {_received(name, value)}")
    return value


def check_float32(name: str, value: float, *, divisor: bool = False) -> float:
    """``value`` if float32, the dtype Keras computes schedules in, holds it: not infinite, and
    not flushed to zero (a ``divisor`` must also stay a normal number, or dividing by it
    overflows)."""
    if value == 0:
        return value
    tiny = float(_F32.tiny) if divisor else float(_F32.smallest_subnormal)
    if not abs(value) <= float(_F32.max) or abs(value) < tiny:
        raise ValueError(
            f"`{name}` must be within float32's range, where Keras computes the schedule "
            f"({tiny:.3g} to {float(_F32.max):.3g} in magnitude). Received: {name}={value!r}"
        )
    return value


def as_iterations(iterations: Any) -> np.ndarray:
    """Iterations as a float64 array, refusing non-numbers, NaN, inf, negatives and counts past
    ``MAX_ITERATIONS`` (2**53, where float64 stops counting every iteration)."""
    message = "`iterations` must be a number in [0, 2**53] or an array of them."
    if isinstance(iterations, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{message} Received: iterations={iterations!r}")
    try:
        it = np.asarray(iterations)
    except Exception:  # ragged lists and the like
        raise TypeError(f"{message} Received: iterations={iterations!r}") from None
    if it.dtype.kind not in "iuf":
        raise TypeError(f"{message} Received dtype {it.dtype} (iterations={iterations!r})")
    it = it.astype(np.float64, copy=False)
    bad = ~np.isfinite(it) | (it < 0) | (it > MAX_ITERATIONS)
    if bad.any():
        first = float(it[bad].flat[0])
        raise ValueError(
            f"`iterations` must be finite, >= 0 and <= 2**53. Received: iterations containing "
            f"{first!r}"
        )
    return it


def checked_fields(cls: type, config: Any) -> dict[str, Any]:
    """``config`` for the dataclass ``cls``: a dict with none but its fields, or one line
    naming what is wrong."""
    if not isinstance(config, dict):
        raise TypeError(f"The config of {cls.__name__} must be a dict. Received: {config!r}"[:300])
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(config) - fields)
    if unknown:
        raise ValueError(
            f"The config of {cls.__name__} has unknown keys {unknown}; its keys are "
            f"{sorted(fields)}."
        )
    return config
