"""The cyclical learning-rate policies, numpy only.

The formula lives once, in :func:`cyclic_formula`, written against an array namespace ``xp``:
``numpy`` here (vectorised, for plots and the callback) and ``keras.ops`` in
:mod:`clr.keras` (for a schedule that runs inside the optimizer on any backend).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, Union

import numpy as np

from ._checks import MAX_ITERATIONS, as_iterations, check_choice, check_number, check_whole
from ._scales import ConstantScale, ExpScale, HalvingScale, ScaleFunction

__all__ = [
    "MODES",
    "EXP_MODES",
    "SCALE_MODES",
    "CyclicPolicy",
    "cyclic_lr",
    "cyclic_formula",
    "policy_function",
    "StepSizeRange",
    "step_size_range",
]

Mode = Literal["triangular", "triangular2", "exp_range", "exp_range_bounds"]
ScaleMode = Literal["cycle", "iterations"]
ScaleFn = Callable[[Any], Any]
ArrayLike = Union[int, float, np.ndarray, "list[float]"]

MODES: tuple[str, ...] = ("triangular", "triangular2", "exp_range", "exp_range_bounds")
SCALE_MODES: tuple[str, ...] = ("cycle", "iterations")
# Each built-in mode has its own scale_mode (bckenstler, PyTorch and TF-Addons agree).
_MODE_SCALE_MODE = {
    "triangular": "cycle",
    "triangular2": "cycle",
    "exp_range": "iterations",
    "exp_range_bounds": "iterations",
}
# The modes that take `gamma`: the callback's exp_range decays the amplitude only (the lower
# bound stays), the paper's (Section 3.1, "each boundary value declines by an exponential
# factor of gamma^iteration") decays the whole band.
EXP_MODES: tuple[str, ...] = ("exp_range", "exp_range_bounds")


def cyclic_formula(
    iterations: Any,
    *,
    base_lr: float,
    max_lr: float,
    step_size: float,
    step_size_down: float,
    scale_fn: ScaleFn,
    scale_mode: str,
    scale_bounds: bool = False,
    xp: Any = np,
) -> Any:
    """The CLR formula on validated arguments, for any array namespace ``xp``.

    With ``P = step_size + step_size_down``::

        cycle    = floor(1 + iterations / P)                  # 1-based
        position = iterations - (cycle - 1) * P               # in [0, P)
        triangle = position / step_size               if position <= step_size
                   (P - position) / step_size_down    otherwise
        lr = base_lr + (max_lr - base_lr) * triangle * scale_fn(cycle or iterations)
        lr = (base_lr + (max_lr - base_lr) * triangle) * scale_fn(...)   # scale_bounds=True

    ``scale_bounds`` scales the whole band (the paper's exp_range) instead of the amplitude
    above ``base_lr`` (the original callback's).

    For ``step_size_down == step_size`` this is the original callback's
    ``1 - |iterations / step_size - 2 * cycle + 1|``, written through the position inside
    the cycle so that float32 keeps its precision at large iteration counts.
    """
    period = step_size + step_size_down
    cycle = xp.floor(1.0 + iterations / period)
    position = iterations - (cycle - 1.0) * period
    # Both branches are computed everywhere; capping each numerator at its denominator keeps
    # the branch not taken from overflowing (a tiny step beside a huge one) and changes no
    # value the clip would keep.
    rising = xp.minimum(position, step_size) / step_size
    falling = xp.minimum(period - position, step_size_down) / step_size_down
    triangle = xp.clip(xp.where(position <= step_size, rising, falling), 0.0, 1.0)
    x = cycle if scale_mode == "cycle" else iterations
    if isinstance(scale_fn, ScaleFunction):
        scale = scale_fn(x, xp)
    else:
        scale = scale_fn(x)
    if scale_bounds:
        return (base_lr + (max_lr - base_lr) * triangle) * scale
    return base_lr + (max_lr - base_lr) * triangle * scale


@dataclasses.dataclass(frozen=True)
class CyclicPolicy:
    """A validated cyclical learning-rate policy: ``policy(iterations) -> lr``.

    Arguments and defaults are those of the original Keras ``CyclicLR`` callback
    (bckenstler/CLR), plus PyTorch's ``step_size_down``.

    Args:
        base_lr: lower bound of the cycle, the rate at iteration 0. Finite, > 0.
        max_lr: upper bound. Finite, >= ``base_lr``. The amplitude ``max_lr - base_lr`` is
            scaled, so ``max_lr`` is reached only where the scale is 1.
        step_size: iterations from ``base_lr`` up to ``max_lr`` (half a cycle). Finite, > 0.
        mode: ``"triangular"`` (scale 1), ``"triangular2"`` (amplitude halves every cycle),
            ``"exp_range"`` (amplitude times ``gamma**iterations``: the original callback's,
            PyTorch's and TF-Addons' exp_range; the rate never falls below ``base_lr``) or
            ``"exp_range_bounds"`` (both bounds times ``gamma**iterations``: the paper's
            exp_range, Section 3.1, a band that decays towards 0 like the ``exp`` policy).
        gamma: the decay of the two exp modes, in (0, 1]; must stay 1 for other modes.
        scale_fn: custom amplitude scale, a callable taking a numpy array and returning
            values in [0, 1]; replaces ``mode``. The built-ins in ``clr`` (``SineScale``,
            ``ExpScale``, ...) pickle and serialize; a lambda works but does not.
        scale_mode: what ``scale_fn`` is evaluated on: ``"cycle"`` (the 1-based cycle
            number) or ``"iterations"``. ``None`` means the mode's own (``"cycle"`` for the
            triangles and a custom ``scale_fn``, ``"iterations"`` for ``exp_range``). A
            value that contradicts a built-in mode raises instead of being ignored.
        step_size_down: iterations from ``max_lr`` back down, for an asymmetric cycle.
            ``None`` means ``step_size``.

    Raises:
        ValueError, TypeError: for any argument outside the ranges above, naming it.

    Examples:
        >>> policy = CyclicPolicy(base_lr=0.001, max_lr=0.006, step_size=2000)
        >>> [round(policy(i), 6) for i in (0, 1000, 2000, 3000, 4000)]
        [0.001, 0.0035, 0.006, 0.0035, 0.001]
    """

    base_lr: float = 0.001
    max_lr: float = 0.006
    step_size: float = 2000.0
    mode: str = "triangular"
    gamma: float = 1.0
    scale_fn: ScaleFn | None = None
    scale_mode: str | None = None
    step_size_down: float | None = None

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        set_("base_lr", check_number("base_lr", self.base_lr, low=0.0))
        max_lr = check_number("max_lr", self.max_lr, low=0.0)
        if max_lr < self.base_lr:
            raise ValueError(
                f"`max_lr` must be >= `base_lr` ({self.base_lr!r}). Received: "
                f"max_lr={self.max_lr!r}"
            )
        set_("max_lr", max_lr)
        set_("step_size", check_number("step_size", self.step_size, low=0.0))
        if self.step_size_down is not None:
            set_("step_size_down", check_number("step_size_down", self.step_size_down, low=0.0))
        set_("gamma", check_number("gamma", self.gamma, low=0.0, high=1.0))
        period = self.step_size + self.resolved_step_size_down
        # The cycle count i / period must stay finite for every iteration up to 2**53.
        if not math.isfinite(period) or not math.isfinite(MAX_ITERATIONS / period):
            raise ValueError(
                "`step_size` + `step_size_down` (one cycle) must be finite and at least "
                f"{MAX_ITERATIONS / np.finfo(float).max:.3g} iterations, so that the cycle count "
                f"stays finite. Received: step_size={self.step_size!r}, "
                f"step_size_down={self.step_size_down!r}"
            )
        set_("mode", check_choice("mode", self.mode, MODES))
        if self.scale_mode is not None:
            if not (isinstance(self.scale_mode, str) and self.scale_mode in SCALE_MODES):
                raise ValueError(
                    f"`scale_mode` must be None or one of {SCALE_MODES}. Received: "
                    f"scale_mode={self.scale_mode!r}"
                )
            set_("scale_mode", str(self.scale_mode))
        if self.scale_fn is None:
            own = _MODE_SCALE_MODE[self.mode]
            if self.scale_mode is not None and self.scale_mode != own:
                raise ValueError(
                    f"`scale_mode` must be None or {own!r} for mode={self.mode!r} (the mode fixes "
                    "it; "
                    "pass a `scale_fn` to scale on something else). Received: "
                    f"scale_mode={self.scale_mode!r}"
                )
            if self.gamma != 1.0 and self.mode not in EXP_MODES:
                raise ValueError(
                    f"`gamma` only applies to mode {' or '.join(map(repr, EXP_MODES))} and must "
                    "stay 1.0 for "
                    f"mode={self.mode!r}. "
                    f"Received: gamma={self.gamma!r}"
                )
        else:
            if not callable(self.scale_fn):
                raise TypeError(
                    f"`scale_fn` must be callable or None. Received: scale_fn={self.scale_fn!r}"
                )
            if self.mode != "triangular":
                raise ValueError(
                    f"`mode` and `scale_fn` both choose the amplitude scaling: pass one of them. "
                    f"Received: mode={self.mode!r} with scale_fn={self.scale_fn!r}"
                )
            if self.gamma != 1.0:
                raise ValueError(
                    "`gamma` only applies to the exp_range modes; a custom `scale_fn` carries its "
                    f"own parameters. Received: gamma={self.gamma!r}"
                )
            self._probe_scale_fn()

    # -- resolved settings -------------------------------------------------------------
    @property
    def resolved_scale_fn(self) -> ScaleFn:
        """The scale function in use (the custom one, or the mode's built-in)."""
        if self.scale_fn is not None:
            return self.scale_fn
        if self.mode == "triangular":
            return ConstantScale()
        if self.mode == "triangular2":
            return HalvingScale()
        return ExpScale(self.gamma)

    @property
    def scale_bounds(self) -> bool:
        """Whether the scale multiplies the whole band (``exp_range_bounds``) rather than the
        amplitude above ``base_lr``."""
        return self.scale_fn is None and self.mode == "exp_range_bounds"

    @property
    def resolved_scale_mode(self) -> str:
        if self.scale_mode is not None:
            return self.scale_mode
        return "cycle" if self.scale_fn is not None else _MODE_SCALE_MODE[self.mode]

    @property
    def resolved_step_size_down(self) -> float:
        return self.step_size if self.step_size_down is None else self.step_size_down

    @property
    def period(self) -> float:
        """Iterations in one full cycle."""
        return self.step_size + self.resolved_step_size_down

    def bounds(self) -> tuple[float, float]:
        """The least and the greatest rate over all iterations (``base_lr`` and ``max_lr``;
        ``exp_range_bounds`` decays towards 0). A custom ``scale_fn`` must keep to [0, 1]."""
        return (0.0 if self.scale_bounds else self.base_lr), self.max_lr

    def replace(self, **changes: Any) -> CyclicPolicy:
        """A copy with some arguments changed, validated again."""
        return dataclasses.replace(self, **changes)

    # -- evaluation ----------------------------------------------------------------------
    def __call__(self, iterations: ArrayLike) -> Any:
        """The learning rate at ``iterations``: a float for a scalar, an array for an array."""
        it = as_iterations(iterations)
        lr = self._formula(it, np, self._checked_scale_fn)
        return float(lr) if it.ndim == 0 else lr

    def formula(self, iterations: Any, xp: Any = np) -> Any:
        """The rate on already-checked ``iterations`` in the array namespace ``xp`` (``numpy``,
        or ``keras.ops`` inside a compiled training step); what composed schedules call."""
        return self._formula(iterations, xp, self.resolved_scale_fn)

    def _formula(self, iterations: Any, xp: Any, scale_fn: ScaleFn) -> Any:
        return cyclic_formula(
            iterations,
            base_lr=self.base_lr,
            max_lr=self.max_lr,
            step_size=self.step_size,
            step_size_down=self.resolved_step_size_down,
            scale_fn=scale_fn,
            scale_mode=self.resolved_scale_mode,
            scale_bounds=self.scale_bounds,
            xp=xp,
        )

    def _checked_scale_fn(self, x: np.ndarray, xp: Any = np) -> np.ndarray:
        """The scale function's values, checked to be finite and in [0, 1] when it is custom."""
        fn = self.resolved_scale_fn
        if isinstance(fn, ScaleFunction):
            return fn(x, np)
        name = "cycle numbers" if self.resolved_scale_mode == "cycle" else "iterations"
        try:
            values = np.asarray(fn(x), dtype=np.float64)
        except Exception as err:
            kind = TypeError if isinstance(err, TypeError) else ValueError
            raise kind(
                f"`scale_fn` raised {err!r} when called on an array of {name}; it must accept a "
                "numpy "
                f"array and return values in [0, 1]. Received: scale_fn={fn!r}"
            ) from err
        try:
            values = np.broadcast_to(values, np.shape(x))
        except ValueError as err:
            raise ValueError(
                f"`scale_fn` must return one value per input (or a scalar); it returned shape "
                f"{values.shape} for input shape {np.shape(x)}. Received: scale_fn={fn!r}"
            ) from err
        bad = ~np.isfinite(values) | (values < 0.0) | (values > 1.0)
        if bad.any():
            i = np.flatnonzero(bad.ravel())[0]
            raise ValueError(
                f"`scale_fn` must return finite values in [0, 1]; at {name[:-1]} "
                f"{np.ravel(np.broadcast_to(x, values.shape))[i]:g} it returned "
                f"{float(values.ravel()[i])!r}. "
                f"Received: scale_fn={fn!r}"
            )
        return values

    def _probe_scale_fn(self) -> None:
        """Fail at construction, not mid-training, for a custom scale_fn that is plainly wrong."""
        if self.resolved_scale_mode == "cycle":
            probe = np.arange(1.0, 17.0)
        else:
            probe = np.linspace(0.0, 16.0 * self.period, 65)
        self._checked_scale_fn(probe)


def policy_function(policy_class: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give ``fn(iterations, *arguments, **keywords)``, which evaluates ``policy_class`` at
    ``iterations``, the policy's own signature (for ``help`` and editors): the dataclass is the
    one home of the arguments, their defaults and their checks."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        first = inspect.Parameter(
            "iterations", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="ArrayLike"
        )
        fn.__signature__ = inspect.Signature(
            [first, *inspect.signature(policy_class).parameters.values()]
        )  # type: ignore[attr-defined]
        return fn

    return decorate


@policy_function(CyclicPolicy)
def cyclic_lr(iterations: ArrayLike, *arguments: Any, **keywords: Any) -> Any:
    """Cyclical learning rate at ``iterations`` (Smith 2017, arXiv:1506.01186).

    ``iterations`` counts training batches from 0; a scalar gives a float, an array gives an
    array of the same shape (vectorised). Iteration 0 gives ``base_lr``; the rate rises
    linearly to ``max_lr`` at ``step_size`` and falls back to ``base_lr`` at
    ``2 * step_size``, every cycle, with the amplitude scaled by the mode::

        cycle = floor(1 + iterations / (2 * step_size))           # 1-based
        x     = |iterations / step_size - 2 * cycle + 1|
        lr    = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale(cycle or iterations)

        triangular:  scale = 1                        (on cycle)
        triangular2: scale = 1 / 2**(cycle - 1)       (on cycle)
        exp_range:   scale = gamma**iterations        (on iterations)

        exp_range_bounds (the paper's exp_range: both bounds decay):
                     lr = (base_lr + (max_lr - base_lr) * max(0, 1 - x)) * gamma**iterations

    See :class:`CyclicPolicy` for every argument and its allowed values.

    Examples:
        >>> import numpy as np
        >>> cyclic_lr(np.array([0, 1000, 2000, 6000, 10000]), mode="triangular2").round(6)
        array([0.001  , 0.0035 , 0.006  , 0.0035 , 0.00225])
    """
    return CyclicPolicy(*arguments, **keywords)(iterations)


class StepSizeRange(NamedTuple):
    """The paper's advice for ``step_size``: 2 to 10 epochs' worth of iterations."""

    iterations_per_epoch: int
    low: int
    high: int


def step_size_range(
    train_examples: int, batch_size: int, epochs: tuple[float, float] = (2, 10)
) -> StepSizeRange:
    """Iterations per epoch and the ``step_size`` range the paper recommends.

    "stepsize equal to 2 - 10 times the number of iterations in an epoch" (Smith 2017, §3.3).
    An epoch is ``ceil(train_examples / batch_size)`` iterations (Keras counts the last,
    partial batch).

    Examples:
        >>> step_size_range(50_000, 100)          # CIFAR-10 with the paper's batch of 100
        StepSizeRange(iterations_per_epoch=500, low=1000, high=5000)
    """
    train_examples = check_whole("train_examples", train_examples, low=1)
    batch_size = check_whole("batch_size", batch_size, low=1)
    message = (
        f"`epochs` must be (low, high) with 0 < low <= high, finite. Received: epochs={epochs!r}"
    )
    if not isinstance(epochs, (tuple, list)) or len(epochs) != 2:
        raise TypeError(message)
    low, high = (check_number("epochs", e, low=0.0) for e in epochs)
    if not low <= high:
        raise ValueError(message)
    per_epoch = math.ceil(train_examples / batch_size)
    if not math.isfinite(high * per_epoch):
        raise ValueError(
            f"`epochs` must be (low, high) with high at most {sys.float_info.max / per_epoch:.3g} "
            f"epochs, so that high * {per_epoch} iterations per epoch is finite. "
            f"Received: epochs={epochs!r}"
        )
    return StepSizeRange(per_epoch, max(1, round(low * per_epoch)), max(1, round(high * per_epoch)))
