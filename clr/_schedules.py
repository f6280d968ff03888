"""Small learning-rate schedules and their composition (numpy), for the paper's baselines.

Each is a pure function of the iteration, vectorised like :func:`clr.cyclic_lr`:
``schedule(iterations) -> lr``. :func:`join` chains schedules at boundaries and restarts
each one's iteration count, which is exactly what ``CyclicLR.reset`` does during training.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from ._policies import _as_iterations, _check_number

__all__ = ["Schedule", "constant", "exponential", "linear", "join"]

Schedule = Callable[[Any], Any]


def _scalar_or_array(it: np.ndarray, values: np.ndarray) -> Any:
    return float(values) if it.ndim == 0 else values


def constant(lr: float) -> Schedule:
    """``lr`` at every iteration (Caffe's ``fixed``)."""
    lr = _check_number("lr", lr, low=0.0, low_inclusive=False)

    def schedule(iterations: Any) -> Any:
        it = _as_iterations(iterations)
        return _scalar_or_array(it, np.full(it.shape, lr))

    return schedule


def exponential(base_lr: float, gamma: float) -> Schedule:
    """``base_lr * gamma**iterations`` (Caffe's ``exp``, the paper's ``exp`` policy)."""
    base_lr = _check_number("base_lr", base_lr, low=0.0, low_inclusive=False)
    gamma = _check_number("gamma", gamma, low=0.0, low_inclusive=False, high=1.0)

    def schedule(iterations: Any) -> Any:
        it = _as_iterations(iterations)
        return _scalar_or_array(it, base_lr * np.exp(it * math.log(gamma)))

    return schedule


def linear(start_lr: float, end_lr: float, steps: float) -> Schedule:
    """From ``start_lr`` to ``end_lr`` linearly over ``steps`` iterations, then ``end_lr``.

    The paper's ``decay`` policy is ``linear(max_lr, base_lr, step_size)``.
    """
    start_lr = _check_number("start_lr", start_lr, low=0.0, low_inclusive=False)
    end_lr = _check_number("end_lr", end_lr, low=0.0, low_inclusive=False)
    steps = _check_number("steps", steps, low=0.0, low_inclusive=False)

    def schedule(iterations: Any) -> Any:
        it = _as_iterations(iterations)
        fraction = np.minimum(it / steps, 1.0)
        return _scalar_or_array(it, start_lr + (end_lr - start_lr) * fraction)

    return schedule


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """``schedules[k]`` from ``boundaries[k-1]`` on, each counting its iterations from 0.

    Examples:
        >>> fixed = join([constant(1e-3), constant(1e-4), constant(1e-5)], [60_000, 65_000])
        >>> [fixed(i) for i in (0, 59_999, 60_000, 69_999)]
        [0.001, 0.001, 0.0001, 1e-05]
    """
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"`boundaries` must have one entry fewer than `schedules` ({len(schedules) - 1}). "
            f"Received: boundaries={list(boundaries)!r}"
        )
    if any(b <= a for a, b in zip([0, *boundaries], boundaries)):
        raise ValueError(f"`boundaries` must be > 0 and strictly increasing. Received: boundaries={list(boundaries)!r}")
    starts = np.array([0, *boundaries], dtype=np.float64)

    def schedule(iterations: Any) -> Any:
        it = _as_iterations(iterations)
        phase = np.searchsorted(starts, it, side="right") - 1
        out = np.empty(it.shape)
        for k, fn in enumerate(schedules):
            mask = phase == k
            if mask.any():
                out[mask] = fn(it[mask] - starts[k])
        return _scalar_or_array(it, out)

    return schedule
