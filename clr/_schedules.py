"""Small learning-rate schedules and their composition (numpy), for the paper's baselines.

Each is a small frozen dataclass, validated at construction, with one formula written against
an array namespace ``xp`` (``formula(iterations, xp)``: numpy for plots and tables,
``keras.ops`` inside a compiled training step, see :class:`clr.keras.PolicySchedule`), and
``schedule(iterations) -> lr`` vectorised like :func:`clr.cyclic_lr`. :class:`Join` chains
schedules at boundaries and restarts each one's iteration count, which is exactly what
``CyclicLR.reset`` does during training; :class:`Offset` makes a phase continue the count
instead, as a Caffe solver resumed with new settings does.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._checks import MAX_ITERATIONS, as_iterations, check_number, check_whole

__all__ = ["Schedule", "Constant", "Exponential", "Linear", "Join", "Offset"]


class Schedule(abc.ABC):
    """Base of the composable schedules: ``schedule(iterations)`` checks its input and
    evaluates ``formula`` with numpy; subclasses write ``formula`` once for any ``xp``."""

    @abc.abstractmethod
    def formula(self, iterations: Any, xp: Any = np) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def bounds(self) -> tuple[float, float]:  # pragma: no cover - abstract
        """The least and the greatest value over all iterations, known from the arguments."""
        raise NotImplementedError

    def __call__(self, iterations: Any) -> Any:
        it = as_iterations(iterations)
        values = np.asarray(self.formula(it, np), dtype=np.float64)
        return float(values) if it.ndim == 0 else np.broadcast_to(values, it.shape).copy()


@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    """``lr`` at every iteration (Caffe's ``fixed``)."""

    lr: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr", check_number("lr", self.lr, low=0.0))

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        return xp.zeros_like(iterations) + self.lr

    def bounds(self) -> tuple[float, float]:
        return self.lr, self.lr


@dataclasses.dataclass(frozen=True)
class Exponential(Schedule):
    """``base_lr * gamma**iterations`` (Caffe's ``exp``, the paper's ``exp`` policy).

    Computed as ``exp(iterations * log(gamma))`` with ``log(gamma)`` in float64, which keeps a
    float32 training step accurate at 70,000 iterations.
    """

    base_lr: float
    gamma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_lr", check_number("base_lr", self.base_lr, low=0.0))
        object.__setattr__(self, "gamma", check_number("gamma", self.gamma, low=0.0, high=1.0))

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        return self.base_lr * xp.exp(iterations * math.log(self.gamma))

    def bounds(self) -> tuple[float, float]:
        return (self.base_lr if self.gamma == 1.0 else 0.0), self.base_lr


@dataclasses.dataclass(frozen=True)
class Linear(Schedule):
    """From ``start_lr`` to ``end_lr`` linearly over ``steps`` iterations, then ``end_lr``.

    The paper's ``decay`` policy is ``Linear(max_lr, base_lr, step_size)``.
    """

    start_lr: float
    end_lr: float
    steps: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_lr", check_number("start_lr", self.start_lr, low=0.0))
        object.__setattr__(self, "end_lr", check_number("end_lr", self.end_lr, low=0.0))
        object.__setattr__(self, "steps", check_number("steps", self.steps, low=0.0))
        if not math.isfinite(MAX_ITERATIONS / self.steps):
            raise ValueError(
                f"`steps` must be at least {MAX_ITERATIONS / np.finfo(float).max:.3g}, so that "
                f"iterations / steps stays finite. Received: steps={self.steps!r}"
            )

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        fraction = xp.minimum(iterations / self.steps, 1.0)
        return self.start_lr + (self.end_lr - self.start_lr) * fraction

    def bounds(self) -> tuple[float, float]:
        return min(self.start_lr, self.end_lr), max(self.start_lr, self.end_lr)


def _as_tuple(name: str, value: Any) -> tuple[Any, ...]:
    # A 0-d array has `__iter__` but refuses to iterate; strings iterate but are no sequence.
    if not isinstance(value, (str, bytes)):
        try:
            return tuple(value)
        except TypeError:
            pass
    raise TypeError(f"`{name}` must be a sequence. Received: {name}={value!r}")


@dataclasses.dataclass(frozen=True)
class Join(Schedule):
    """``schedules[k]`` from ``boundaries[k-1]`` on, each counting its iterations from 0.

    ``schedules`` are any objects with ``formula(iterations, xp)``: the classes here and
    :class:`clr.CyclicPolicy`.

    Examples:
        >>> fixed = Join((Constant(1e-3), Constant(1e-4), Constant(1e-5)), (60_000, 65_000))
        >>> [fixed(i) for i in (0, 59_999, 60_000, 69_999)]
        [0.001, 0.001, 0.0001, 1e-05]
    """

    schedules: Sequence[Any]
    boundaries: Sequence[int]

    def __post_init__(self) -> None:
        schedules = _as_tuple("schedules", self.schedules)
        if not schedules:
            raise ValueError("`schedules` must hold at least one schedule. Received: schedules=()")
        boundaries = tuple(
            check_whole(f"boundaries[{k}]", b, low=1, high=int(MAX_ITERATIONS))
            for k, b in enumerate(_as_tuple("boundaries", self.boundaries))
        )
        for k, schedule in enumerate(schedules):
            if not callable(getattr(schedule, "formula", None)):
                raise TypeError(
                    "`schedules` must hold clr schedules or policies (objects with a "
                    f"`formula(iterations, xp)` method). Received: schedules[{k}]={schedule!r}"
                )
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                f"`boundaries` must have one entry fewer than `schedules` ({len(schedules) - 1}). "
                f"Received: boundaries={list(boundaries)!r}"
            )
        if any(b <= a for a, b in zip((0, *boundaries), boundaries)):
            raise ValueError(
                "`boundaries` must be > 0 and strictly increasing. Received: "
                f"boundaries={list(boundaries)!r}"
            )
        object.__setattr__(self, "schedules", schedules)
        object.__setattr__(self, "boundaries", boundaries)

    def bounds(self) -> tuple[float, float]:
        lows, highs = zip(*(_bounds(s, f"schedules[{k}]") for k, s in enumerate(self.schedules)))
        return min(lows), max(highs)

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        out = self.schedules[0].formula(iterations, xp)
        for start, schedule in zip(self.boundaries, self.schedules[1:]):
            # Later phases are evaluated from 0 before they start (then discarded), so that
            # no formula sees a negative iteration.
            later = schedule.formula(xp.maximum(iterations - float(start), 0.0), xp)
            out = xp.where(iterations >= float(start), later, out)
        return out


@dataclasses.dataclass(frozen=True)
class Offset(Schedule):
    """``schedule`` evaluated ``iterations`` later: ``Offset(s, k)(i) == s(i + k)``.

    Inside a :class:`Join`, which restarts each phase's count at its boundary, a phase wrapped
    in ``Offset(phase, boundary)`` sees the global iteration instead: that is a Caffe solver
    resumed from a snapshot with new ``base_lr``/``max_lr``/``stepsize``, whose ``iter_`` (and so
    triangular2's halving) goes on from where it was.

    Examples:
        >>> from clr import CyclicPolicy
        >>> second = CyclicPolicy(0.0001, 0.0005, 1000, mode="triangular2")
        >>> round(Join((Constant(0.001), second), (16_000,))(16_500), 8)  # restarted: cycle 1
        0.0003
        >>> round(Join((Constant(0.001), Offset(second, 16_000)), (16_000,))(16_500), 8)  # cycle 9
        0.00010078
    """

    schedule: Any
    iterations: float

    def __post_init__(self) -> None:
        if not callable(getattr(self.schedule, "formula", None)):
            raise TypeError(
                "`schedule` must be a clr schedule or policy (an object with a "
                f"`formula(iterations, xp)` method). Received: schedule={self.schedule!r}"
            )
        object.__setattr__(
            self,
            "iterations",
            check_number(
                "iterations", self.iterations, low=0.0, low_inclusive=True, high=MAX_ITERATIONS
            ),
        )

    def bounds(self) -> tuple[float, float]:
        return _bounds(self.schedule, "schedule")

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        return self.schedule.formula(iterations + self.iterations, xp)


def _bounds(schedule: Any, name: str) -> tuple[float, float]:
    """``schedule.bounds()``, or a TypeError naming ``name`` when it cannot say."""
    bounds = getattr(schedule, "bounds", None)
    if not callable(bounds):
        raise TypeError(
            f"`{name}` cannot be bounded: {type(schedule).__name__} has no `bounds()`. "
            f"Received: {name}={schedule!r}"
        )
    return bounds()
