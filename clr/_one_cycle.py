"""Smith's follow-up policies: 1cycle and cyclical momentum (numpy; ``keras.ops`` through ``xp``).

1cycle (Smith & Topin 2017, "Super-Convergence", arXiv:1708.07120; Smith 2018, "A disciplined
approach to neural network hyper-parameters: Part 1", arXiv:1803.09820): the rate rises once
from ``max_lr / div_factor`` to ``max_lr`` and comes down again, ending far below where it
started, while momentum moves the opposite way (high momentum with a low rate, low with a high).

Semantics are PyTorch's ``OneCycleLR`` and ``CyclicLR(cycle_momentum=True)`` exactly: the value at
0-based iteration *i* is what PyTorch's optimizer uses for its (i+1)-th step. With
``P = pct_start * total_steps``, the phases end at these iterations (each phase anneals from
its start value to its end value with ``cos``: ``end + (start - end) / 2 * (1 + cos(pi * t))``,
or ``linear``: ``start + (end - start) * t``, ``t`` the fraction of the phase done)::

    two phases (PyTorch's default, after fastai):
        up    0 .. P - 1              initial_lr -> max_lr       max_momentum -> base_momentum
        down  P - 1 .. total - 1      max_lr -> min_lr           base_momentum -> max_momentum
    three phases (the papers' layout; PyTorch's ``three_phase=True``):
        up    0 .. P - 1              initial_lr -> max_lr       max_momentum -> base_momentum
        down  P - 1 .. 2P - 2         max_lr -> initial_lr       base_momentum -> max_momentum
        tail  2P - 2 .. total - 1     initial_lr -> min_lr       max_momentum (held)

    initial_lr = max_lr / div_factor,   min_lr = initial_lr / final_div_factor
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

import numpy as np

from ._checks import MAX_ITERATIONS, as_iterations, check_choice, check_int, check_number
from ._policies import CyclicPolicy, policy_function

__all__ = [
    "ANNEAL_STRATEGIES",
    "phase_ends",
    "OneCyclePolicy",
    "OneCycleMomentumPolicy",
    "CyclicMomentumPolicy",
    "one_cycle",
    "one_cycle_momentum",
    "cyclic_momentum",
]

ANNEAL_STRATEGIES = ("cos", "linear")


def _anneal(strategy: str, start: float, end: float, fraction: Any, xp: Any) -> Any:
    if strategy == "cos":
        return end + (start - end) / 2.0 * (xp.cos(math.pi * fraction) + 1.0)
    return start + (end - start) * fraction


def phase_ends(total_steps: int, pct_start: float, three_phase: bool) -> tuple[float, ...]:
    """PyTorch's phase end iterations; each phase must be at least one iteration long."""
    up = pct_start * total_steps - 1
    ends = (up, 2 * up, total_steps - 1.0) if three_phase else (up, total_steps - 1.0)
    if not all(b > a for a, b in zip((0.0, *ends), ends)):
        layout = "three phases" if three_phase else "two phases"
        raise ValueError(
            f"`pct_start` * `total_steps` leaves a phase of {layout} empty (phases end at "
            "iterations "
            f"{[round(e, 6) for e in ends]}); it must be > 1 and leave room for the phases after "
            "it. "
            f"Received: pct_start={pct_start!r}, total_steps={total_steps!r}"
        )
    return ends


def _piecewise(
    iterations: Any,
    ends: tuple[float, ...],
    values: list[tuple[float, float]],
    strategy: str,
    xp: Any,
) -> Any:
    """Phase k anneals ``values[k]`` over ``(ends[k-1], ends[k]]``; the last takes the rest."""
    starts = (0.0, *ends[:-1])
    out = None
    for k in reversed(range(len(ends))):
        # Clipped: past the last phase the value holds (a compiled step cannot raise), and no
        # phase extrapolates beyond its ends.
        fraction = xp.clip((iterations - starts[k]) / (ends[k] - starts[k]), 0.0, 1.0)
        value = _anneal(strategy, *values[k], fraction, xp)
        out = value if out is None else xp.where(iterations <= ends[k], value, out)
    return out


class _StepPolicy:
    """Shared by the policies of a fixed length: ``policy(iterations)`` checks that every
    iteration is in ``[0, total_steps)`` (as PyTorch raises past its total), then evaluates
    ``formula`` with numpy."""

    total_steps: int

    def formula(self, iterations: Any, xp: Any = np) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, iterations: Any) -> Any:
        it = as_iterations(iterations)
        if np.any(it >= self.total_steps):
            raise ValueError(
                f"`iterations` must be in [0, total_steps) = [0, {self.total_steps}). "
                f"Received: iterations containing {float(it[it >= self.total_steps].flat[0])!r}"
            )
        values = np.asarray(self.formula(it, np), dtype=np.float64)
        return float(values) if it.ndim == 0 else values


def _check_common(policy: Any) -> None:
    set_ = lambda name, value: object.__setattr__(policy, name, value)  # noqa: E731 (frozen)
    # at most 2**53, where float64 stops counting every iteration (the last is total_steps - 1)
    set_(
        "total_steps", check_int("total_steps", policy.total_steps, low=2, high=int(MAX_ITERATIONS))
    )
    set_(
        "pct_start",
        check_number("pct_start", policy.pct_start, low=0.0, high=1.0, high_inclusive=False),
    )
    set_(
        "anneal_strategy",
        check_choice("anneal_strategy", policy.anneal_strategy, ANNEAL_STRATEGIES),
    )
    if not isinstance(policy.three_phase, (bool, np.bool_)):
        raise TypeError(
            f"`three_phase` must be True or False. Received: three_phase={policy.three_phase!r}"
        )
    set_("three_phase", bool(policy.three_phase))
    phase_ends(policy.total_steps, policy.pct_start, policy.three_phase)


@dataclasses.dataclass(frozen=True)
class OneCyclePolicy(_StepPolicy):
    """The 1cycle learning rate; see the module docstring for the phases and :func:`one_cycle`."""

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_lr", check_number("max_lr", self.max_lr, low=0.0))
        object.__setattr__(self, "div_factor", check_number("div_factor", self.div_factor, low=0.0))
        object.__setattr__(
            self,
            "final_div_factor",
            check_number("final_div_factor", self.final_div_factor, low=0.0),
        )
        if not math.isfinite(self.initial_lr):
            raise ValueError(
                "`max_lr` / `div_factor` (the starting rate) must be finite. Received: "
                f"max_lr={self.max_lr!r}, div_factor={self.div_factor!r}"
            )
        if not math.isfinite(self.min_lr):
            raise ValueError(
                "`max_lr` / `div_factor` / `final_div_factor` (the final rate) must be finite: "
                f"`final_div_factor` must be at least {self.initial_lr / sys.float_info.max:.3g}. "
                f"Received: max_lr={self.max_lr!r}, div_factor={self.div_factor!r}, "
                f"final_div_factor={self.final_div_factor!r}"
            )
        _check_common(self)

    def bounds(self) -> tuple[float, float]:
        """The least and the greatest rate: ``min_lr`` and ``max_lr`` (or the start, if a
        ``div_factor`` under 1 puts it above the peak)."""
        values = (self.initial_lr, self.max_lr, self.min_lr)
        return min(values), max(values)

    @property
    def initial_lr(self) -> float:
        return self.max_lr / self.div_factor

    @property
    def min_lr(self) -> float:
        return self.initial_lr / self.final_div_factor

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        ends = phase_ends(self.total_steps, self.pct_start, self.three_phase)
        initial, peak, low = self.initial_lr, self.max_lr, self.min_lr
        values = (
            [(initial, peak), (peak, initial), (initial, low)]
            if self.three_phase
            else [(initial, peak), (peak, low)]
        )
        return _piecewise(iterations, ends, values, self.anneal_strategy, xp)


def _check_momenta(policy: Any) -> None:
    # Below 1: a momentum of 1 never forgets (SGD's velocity grows without bound, Adam's bias
    # correction divides by zero).
    base = check_number(
        "base_momentum",
        policy.base_momentum,
        low=0.0,
        low_inclusive=True,
        high=1.0,
        high_inclusive=False,
    )
    top = check_number(
        "max_momentum",
        policy.max_momentum,
        low=0.0,
        low_inclusive=True,
        high=1.0,
        high_inclusive=False,
    )
    if top < base:
        raise ValueError(
            f"`max_momentum` must be >= `base_momentum` ({base!r}). Received: "
            f"max_momentum={policy.max_momentum!r}"
        )
    object.__setattr__(policy, "base_momentum", base)
    object.__setattr__(policy, "max_momentum", top)


@dataclasses.dataclass(frozen=True)
class OneCycleMomentumPolicy(_StepPolicy):
    """The momentum that goes with 1cycle, opposite to the rate; see :func:`one_cycle_momentum`."""

    total_steps: int
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    three_phase: bool = False

    def __post_init__(self) -> None:
        _check_momenta(self)
        _check_common(self)

    def bounds(self) -> tuple[float, float]:
        return self.base_momentum, self.max_momentum

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        ends = phase_ends(self.total_steps, self.pct_start, self.three_phase)
        low, high = self.base_momentum, self.max_momentum
        values = (
            [(high, low), (low, high), (high, high)]
            if self.three_phase
            else [(high, low), (low, high)]
        )
        return _piecewise(iterations, ends, values, self.anneal_strategy, xp)


class _CyclicMomentum:
    """The behaviour of :class:`CyclicMomentumPolicy`; its fields are made below."""

    base_momentum: float
    max_momentum: float

    def __post_init__(self) -> None:
        _check_momenta(self)
        _ = self.cycle  # validates the cycle's arguments now, not at the first call
        if self.mode == "exp_range_bounds":
            raise ValueError(
                "`mode` must scale the amplitude for cyclical momentum ('triangular', "
                "'triangular2', 'exp_range' or a scale_fn): 'exp_range_bounds' would decay the "
                "momentum's band past max_momentum. Received: mode='exp_range_bounds'"
            )

    def bounds(self) -> tuple[float, float]:
        return self.base_momentum, self.max_momentum

    @property
    def cycle(self) -> CyclicPolicy:
        """The cycle's shape as a policy from 1 to 2: ``cycle(i) - 1 = triangle * scale``."""
        return CyclicPolicy(
            base_lr=1.0, max_lr=2.0, **{name: getattr(self, name) for name in _CYCLE_ARGUMENTS}
        )

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        shape = self.cycle.formula(iterations, xp) - 1.0
        return self.max_momentum - (self.max_momentum - self.base_momentum) * shape

    def __call__(self, iterations: Any) -> Any:
        shape = self.cycle(iterations) - 1.0  # checks iterations and a custom scale_fn
        return self.max_momentum - (self.max_momentum - self.base_momentum) * shape


# The cycle's arguments are CyclicPolicy's own fields (their one home): only the two momenta
# are new, in place of its two rates.
_CYCLE_ARGUMENTS = tuple(
    f.name for f in dataclasses.fields(CyclicPolicy) if f.name not in ("base_lr", "max_lr")
)
CyclicMomentumPolicy = dataclasses.make_dataclass(
    "CyclicMomentumPolicy",
    [
        ("base_momentum", float, dataclasses.field(default=0.8)),
        ("max_momentum", float, dataclasses.field(default=0.9)),
        *[
            (f.name, f.type, dataclasses.field(default=f.default))
            for f in dataclasses.fields(CyclicPolicy)
            if f.name in _CYCLE_ARGUMENTS
        ],
    ],
    bases=(_CyclicMomentum,),
    frozen=True,
)
CyclicMomentumPolicy.__module__ = __name__
CyclicMomentumPolicy.__doc__ = """Momentum cycling opposite to :func:`clr.cyclic_lr`.

``max_momentum`` where the rate is at ``base_lr``, ``base_momentum`` where it peaks, with the
same cycle and amplitude scaling::

    momentum = max_momentum - (max_momentum - base_momentum) * triangle * scale

(PyTorch's ``CyclicLR(cycle_momentum=True)``). Fields: ``base_momentum`` (0.8),
``max_momentum`` (0.9), then :class:`clr.CyclicPolicy`'s cycle arguments (``step_size``,
``mode``, ``gamma``, ``scale_fn``, ``scale_mode``, ``step_size_down``), validated by it.
"""


@policy_function(OneCyclePolicy)
def one_cycle(iterations: Any, *arguments: Any, **keywords: Any) -> Any:
    """The 1cycle learning rate at ``iterations`` (0-based, in ``[0, total_steps)``), vectorised.

    Two phases by default, as PyTorch's ``OneCycleLR`` and fastai's ``fit_one_cycle``;
    ``three_phase=True`` is the layout of Smith's papers (up, down to the start, then the tail).
    See the module docstring for the formula of each phase.

    Args:
        max_lr: the peak rate, > 0.
        total_steps: iterations in the whole run, an integer in [2, 2**53].
        pct_start: fraction of the run spent rising, in (0, 1).
        anneal_strategy: ``"cos"`` or ``"linear"``.
        div_factor: the start is ``max_lr / div_factor``, > 0.
        final_div_factor: the end is the start divided by this, > 0.
        three_phase: the papers' three phases instead of PyTorch's two.

    Examples:
        >>> [round(one_cycle(i, max_lr=0.1, total_steps=100), 6) for i in (0, 29, 99)]
        [0.004, 0.1, 0.0]
    """
    return OneCyclePolicy(*arguments, **keywords)(iterations)


@policy_function(OneCycleMomentumPolicy)
def one_cycle_momentum(iterations: Any, *arguments: Any, **keywords: Any) -> Any:
    """The momentum of 1cycle at ``iterations``: from ``max_momentum`` down to ``base_momentum``
    while the rate rises, and back up while it falls (held at ``max_momentum`` in the third
    phase). Arguments as :func:`one_cycle`; ``0 <= base_momentum <= max_momentum < 1``.

    Examples:
        >>> [round(one_cycle_momentum(i, total_steps=100), 6) for i in (0, 29, 99)]
        [0.95, 0.85, 0.95]
    """
    return OneCycleMomentumPolicy(*arguments, **keywords)(iterations)


@policy_function(CyclicMomentumPolicy)
def cyclic_momentum(iterations: Any, *arguments: Any, **keywords: Any) -> Any:
    """Cyclical momentum at ``iterations``: the inverse of :func:`clr.cyclic_lr`'s triangle,
    ``max_momentum`` where the rate is ``base_lr``, ``base_momentum`` where it peaks.

    Examples:
        >>> [round(cyclic_momentum(i), 6) for i in (0, 1000, 2000, 4000)]
        [0.9, 0.85, 0.8, 0.9]
    """
    return CyclicMomentumPolicy(*arguments, **keywords)(iterations)
