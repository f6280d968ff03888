"""Reading a participant's answers: their function's return value or a number typed by hand,
as a float or a whole number, or a one-line message saying what came back instead (``None``
from a missing ``return``, an integer from ``//``, an exercise not answered yet, a NaN from a
division by zero). Nothing here judges an answer; the checks in ``checks`` do.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["NotANumber", "as_number", "as_rate", "run", "whole", "count", "plural"]


class NotANumber(Exception):
    """A participant's function gave something that is not one number; the message says what."""


def as_number(value: Any, call: str) -> float:
    """A participant's return value as a float, or a message that names what came back."""
    if value is None:
        raise NotANumber(f"{call} returned None: is a `return` missing?")
    if isinstance(value, (bool, np.bool_)):
        raise NotANumber(f"{call} returned {value!r}, a bool: return the rate, a number.")
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        array = np.asarray(value)
        if array.size != 1:
            raise NotANumber(
                f"{call} returned an array of shape {array.shape}: return one number for one "
                "iteration."
            )
        value = array.reshape(()).item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        # An integer rate is almost always integer division (//) or a rounded result.
        raise NotANumber(
            f"{call} returned the integer {value!r}: a learning rate is a fraction. Is there a // "
            "or int() in it?"
        )
    if not isinstance(value, numbers.Real):
        raise NotANumber(
            f"{call} returned {type(value).__name__} {value!r}: give the rate as a number."
        )
    if not math.isfinite(value):
        # numpy answers 0/0 and x/0 with nan and inf where Python would raise.
        raise NotANumber(
            f"{call} returned {float(value)!r}: is something divided by a value that is 0 at "
            "this iteration?"
        )
    return float(value)


def run(fn: Callable[..., Any], args: tuple) -> float:
    """``fn(*args)`` as a float, or NotANumber saying what happened (never the traceback)."""
    name = getattr(fn, "__name__", "your function")
    call = f"{name}{args}"
    try:
        value = fn(*args)
    except NotImplementedError:
        raise NotANumber(
            f"{name} is not answered yet: replace `raise NotImplementedError` with your code, "
            "run that cell, then this one."
        ) from None
    except Exception as err:  # their code raised: say where, not how to fix
        detail = f": {err}" if str(err) else ""
        raise NotANumber(f"{call} raised {type(err).__name__}{detail}") from None
    return as_number(value, call)


def as_rate(value: Any, what: str) -> float:
    """A rate given by hand: any real number (an int is fine here: nobody divides)."""
    if isinstance(value, (bool, np.bool_)):
        raise NotANumber(f"{what} is {value!r}, a bool: give a rate, a number.")
    array = np.asarray(value) if not isinstance(value, numbers.Real) else None
    if array is not None:
        if array.size != 1 or array.dtype.kind not in "iuf":
            raise NotANumber(f"{what} is {value!r}: give one number.")
        value = array.reshape(()).item()
    return float(value)


def whole(value: Any, what: str) -> int:
    """A whole number given in any form (int, numpy integer, whole float, 0-d array), or a
    message that names what came instead."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        raise NotANumber(f"{what} must be a whole number, not {value!r}.")
    if not isinstance(value, numbers.Real):
        array = np.asarray(value)
        if array.size != 1 or array.dtype.kind not in "iuf":
            raise NotANumber(f"{what} must be a whole number, not {value!r}.")
        value = array.reshape(()).item()
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if not math.isfinite(number) or number != round(number):
        raise NotANumber(
            f"{what} must be a whole number of iterations, not {value!r}: round it, e.g. "
            f"{round(number) if math.isfinite(number) else 2000}."
        )
    return int(number)


def count(value: int) -> str:
    # A whole number typed by mistake can have hundreds of digits.
    return f"{value:,}" if abs(value) < 10**12 else f"{value:.3g}"


def plural(number: float, noun: str) -> str:
    """``1 epoch``, ``4 epochs``, ``2.5 epochs``: the number (3 significant digits) and its
    noun, singular only for exactly one."""
    shown = f"{number:.3g}" if isinstance(number, float) else count(number)
    return f"{shown} {noun}{'' if number == 1 else 's'}"
