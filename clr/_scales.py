"""Amplitude scale functions of the cyclical policies.

Each is a small frozen dataclass, so that a schedule using it pickles, compares and
serializes (no lambdas). A scale function maps the cycle number (1-based) or the iteration
count to a factor in [0, 1] that multiplies the triangle's amplitude ``max_lr - base_lr``.

The built-ins take an optional array namespace ``xp`` (``numpy`` by default, ``keras.ops``
inside a Keras schedule), so the same formula serves plots and training.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any

import numpy as np

from ._checks import check_number

__all__ = ["ScaleFunction", "ConstantScale", "HalvingScale", "ExpScale", "SineScale"]


class ScaleFunction(abc.ABC):
    """Base class of the built-in scale functions: ``scale(x, xp=numpy) -> factor in [0, 1]``."""

    @abc.abstractmethod
    def __call__(self, x: Any, xp: Any = np) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def formula(self, on: str) -> str:  # pragma: no cover - abstract
        """This scale as text, evaluated on ``on`` (``"cycle"`` or ``"i"``), with its numbers."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ScaleFunction:
        from ._checks import checked_fields

        return cls(**checked_fields(cls, config))


@dataclasses.dataclass(frozen=True)
class ConstantScale(ScaleFunction):
    """``1``: the plain triangle (mode ``"triangular"``)."""

    def __call__(self, x: Any, xp: Any = np) -> Any:
        return xp.ones_like(x)

    def formula(self, on: str) -> str:
        return "1"


@dataclasses.dataclass(frozen=True)
class HalvingScale(ScaleFunction):
    """``1 / 2**(cycle - 1)``: the amplitude halves every cycle (mode ``"triangular2"``)."""

    def __call__(self, x: Any, xp: Any = np) -> Any:
        return xp.power(2.0, 1.0 - x)

    def formula(self, on: str) -> str:
        return f"1 / 2**({on} - 1)"


@dataclasses.dataclass(frozen=True)
class ExpScale(ScaleFunction):
    """``gamma**x``: exponential decay of the amplitude (mode ``"exp_range"``, on iterations).

    Computed as ``exp(x * log(gamma))`` with ``log(gamma)`` taken in float64: the same value,
    but it keeps float32 training accurate (``0.99994`` rounded to float32 and raised to the
    70,000th power is off by 0.2 %).

    The original callback's "custom iteration policy" ``1 / 5**(x * 1e-4)`` is this with
    ``gamma = 5**-1e-4``.
    """

    gamma: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", check_number("gamma", self.gamma, low=0.0, high=1.0))

    def __call__(self, x: Any, xp: Any = np) -> Any:
        return xp.exp(x * math.log(self.gamma))

    def formula(self, on: str) -> str:
        return f"{self.gamma:.6g}**{on}"


@dataclasses.dataclass(frozen=True)
class SineScale(ScaleFunction):
    """``0.5 * (1 + sin(cycle * pi / 2))``: the original callback's "custom cycle policy".

    Cycles 1, 2, 3, 4, 5 get 1, 0.5, 0, 0.5, 1 of the amplitude.
    """

    def __call__(self, x: Any, xp: Any = np) -> Any:
        # sin(x*pi/2) has period 4 in x: reducing first keeps float32 exact at large cycle
        # numbers. Clipped because sin(2*pi*k) is not exactly 0 in floating point.
        return xp.clip(0.5 * (1.0 + xp.sin(xp.mod(x, 4.0) * (math.pi / 2.0))), 0.0, 1.0)

    def formula(self, on: str) -> str:
        return f"0.5*(1 + sin({on}*pi/2))"
