"""The explorer's settings: the values of its controls, and what they draw (numpy only).

:class:`ExplorerSettings` holds one value per control, as plain data; :meth:`ExplorerSettings.
picture` turns them into a validated policy, its curves and the texts beside them (a
:class:`Picture`), or into a message that names the control to change. No ipywidgets, no
matplotlib: the panel (``clr.widgets``) copies control values in, the view
(``clr.explorer.view``) draws the picture.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from .._checks import check_whole
from .._describe import call_code, fmt, one_cycle_formula, policy_code, policy_formula
from .._one_cycle import CyclicMomentumPolicy, OneCycleMomentumPolicy, OneCyclePolicy, phase_ends
from .._policies import EXP_MODES, MODES, CyclicPolicy
from .._scales import ExpScale, SineScale

__all__ = [
    "ExplorerSettings",
    "Picture",
    "MODE_LABELS",
    "MODE_HELP",
    "ONE_CYCLE",
    "CUSTOM_MODES",
]

README_ITERATION_GAMMA = 5**-1e-4  # the original README's 1/5**(x*1e-4) is gamma**x with this
CUSTOM_MODES = {
    "sine (custom)": "sine_cycle",
    "gamma**i (custom)": "exp_iterations",
}
ONE_CYCLE = "1cycle"
# The mode dropdown: label -> value (short, so the dropdown never cuts them).
MODE_LABELS = {**{m: m for m in MODES}, **CUSTOM_MODES, ONE_CYCLE: "one_cycle"}
# One line under the dropdown: what the chosen mode does.
MODE_HELP = {
    "triangular": "Up from base_lr to max_lr in step_size iterations, back down in as many; "
    "every cycle the same.",
    "triangular2": "As triangular, with the height above base_lr halved after every cycle.",
    "exp_range": "As triangular, with the height above base_lr shrunk by gamma at every "
    "iteration (the original Keras callback's exp_range).",
    "exp_range_bounds": "The paper's exp_range: both bounds shrink by gamma at every iteration.",
    "sine_cycle": "A custom scale_fn from the original callback's README: the height scaled by "
    "0.5 * (1 + sin(cycle * pi / 2)), once per cycle.",
    "exp_iterations": "A custom scale_fn from the original callback's README: the height scaled "
    "by gamma to the iteration (its 1/5**(x*1e-4) is gamma 0.999839).",
    "one_cycle": "Smith's later policy (PyTorch's OneCycleLR): one rise from max_lr / div_factor "
    "to max_lr, then an anneal far below the start; momentum moves against it.",
}
GAMMA_DEFAULTS = {
    "exp_range": 0.99994,
    "exp_range_bounds": 0.99994,
    "exp_iterations": round(README_ITERATION_GAMMA, 6),
}
MOMENTA = {"cyclic": (0.8, 0.9), "one_cycle": (0.85, 0.95)}  # (base, max): PyTorch's defaults
MAX_SHOWN = 1_000_000  # iterations the explorer draws at most
_NUMBERS = (
    "base_lr", "max_lr", "gamma", "pct_start", "div_factor", "final_div_factor",
    "base_momentum", "max_momentum",
)  # fmt: skip


def round_sig(x: float, digits: int = 4) -> float:
    """Round to significant digits, so the readout, the curve and the code use one number."""
    return float(f"{x:.{digits}g}") if x > 0 else x


@dataclasses.dataclass(frozen=True)
class Picture:
    """What the settings draw: the curves (full resolution), their marks and the texts."""

    policy: Any
    momentum_policy: Any
    lr: np.ndarray
    momentum: np.ndarray | None  # None: constant
    compare: dict[str, np.ndarray]  # mode -> curve (empty unless compare is on)
    boundaries: np.ndarray  # iterations of cycle or phase boundaries
    peaks: tuple[np.ndarray, np.ndarray]  # where the marked peaks are, and their rates
    title: str
    boundary_label: str
    peak_label: str
    momentum_title: str
    peak_prefix: str  # the summary's last line: "{peak_prefix}: {highest rate}{notes}"
    notes: str
    formula: str
    code: str


@dataclasses.dataclass(frozen=True)
class ExplorerSettings:
    """One value per control of the explorer."""

    mode: str = "triangular"
    base_lr: float = 0.001
    max_lr: float = 0.006
    step_size: int = 2000
    gamma: float = 1.0
    iterations: int = 20_000
    asymmetric: bool = False
    step_size_down: int = 2000
    compare: bool = False
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    anneal_strategy: str = "cos"
    cycle_momentum: bool = False
    base_momentum: float = 0.8
    max_momentum: float = 0.9

    def __post_init__(self) -> None:
        if self.mode not in MODE_LABELS.values():
            raise ValueError(
                f"`mode` must be one of {list(MODE_LABELS.values())}. Received: mode={self.mode!r}"
            )
        # The curve is computed at every iteration: a bound keeps memory and time in hand.
        object.__setattr__(
            self, "iterations", check_whole("iterations", self.iterations, low=2, high=MAX_SHOWN)
        )
        # Whole numbers of iterations: 2.5 must not silently draw as 2.
        for name in ("step_size", "step_size_down"):
            object.__setattr__(self, name, check_whole(name, getattr(self, name), low=1))
        # Types here; ranges are the policies' to check, so a slider can show their message.
        for name in _NUMBERS:
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}"[:300])

    def with_mode(self, mode: str) -> ExplorerSettings:
        """The settings after choosing ``mode``: the paper's gamma for the exp modes (unless one
        was chosen) and each policy's usual momenta (unless others were chosen)."""
        changes: dict[str, Any] = {"mode": mode}
        if mode in GAMMA_DEFAULTS and self.gamma == 1.0:
            changes["gamma"] = GAMMA_DEFAULTS[mode]
        want, other = MOMENTA["one_cycle"], MOMENTA["cyclic"]
        if mode != "one_cycle":
            want, other = other, want
        if (self.base_momentum, self.max_momentum) == other:
            changes["base_momentum"], changes["max_momentum"] = want
        return dataclasses.replace(self, **changes)

    def policy_arguments(self) -> dict[str, Any]:
        """The policy's arguments (rates rounded as the readouts show them)."""
        if self.mode == "one_cycle":
            return dict(
                max_lr=round_sig(self.max_lr),
                total_steps=int(self.iterations),
                pct_start=round(float(self.pct_start), 2),
                anneal_strategy=self.anneal_strategy,
                div_factor=round_sig(self.div_factor),
                final_div_factor=round_sig(self.final_div_factor),
                three_phase=bool(self.three_phase),
            )
        kwargs: dict[str, Any] = dict(
            base_lr=round_sig(self.base_lr),
            max_lr=round_sig(self.max_lr),
            step_size=int(self.step_size),
            step_size_down=int(self.step_size_down) if self.asymmetric else None,
        )
        gamma = round(float(self.gamma), 6)
        if self.mode == "sine_cycle":
            kwargs.update(scale_fn=SineScale(), scale_mode="cycle")
        elif self.mode == "exp_iterations":
            kwargs.update(scale_fn=ExpScale(gamma), scale_mode="iterations")
        else:
            kwargs.update(mode=self.mode, gamma=gamma if self.mode in EXP_MODES else 1.0)
        return kwargs

    def _momenta(self) -> dict[str, float]:
        return dict(
            base_momentum=round(float(self.base_momentum), 3),
            max_momentum=round(float(self.max_momentum), 3),
        )

    def policies(self) -> tuple[Any, Any]:
        """The rate's policy and the momentum's (None: constant); ValueError/TypeError naming
        the argument when the settings are invalid."""
        arguments = self.policy_arguments()
        if self.mode == "one_cycle":
            keep = ("total_steps", "pct_start", "anneal_strategy", "three_phase")
            momentum = {k: arguments[k] for k in keep}
            return OneCyclePolicy(**arguments), OneCycleMomentumPolicy(
                **momentum, **self._momenta()
            )
        policy = CyclicPolicy(**arguments)
        if not self.cycle_momentum:
            return policy, None
        cycle = {k: v for k, v in arguments.items() if k not in ("base_lr", "max_lr")}
        return policy, CyclicMomentumPolicy(**self._momenta(), **cycle)

    def picture(self, moved: str | None = None) -> Picture | str:
        """What these settings draw, or a message (naming the control ``moved`` when the check
        named its partner) when they are invalid."""
        try:
            policy, momentum_policy = self.policies()
            it = np.arange(int(self.iterations))
            lr = policy(it)
            momentum = momentum_policy(it) if momentum_policy is not None else None
        except (ValueError, TypeError) as err:
            return self._message(str(err), moved)
        if self.mode == "one_cycle":
            return _one_cycle_picture(policy, momentum_policy, lr, momentum)
        return _cyclic_picture(self, policy, momentum_policy, lr, momentum)

    def _message(self, message: str, moved: str | None) -> str:
        if moved == "base_lr" and "`max_lr` must be >= `base_lr`" in message:
            return (
                f"`base_lr` must be <= `max_lr` ({fmt(round_sig(self.max_lr))}). "
                f"Received: base_lr={fmt(round_sig(self.base_lr))}"
            )
        if moved == "base_momentum" and "`max_momentum` must be >= `base_momentum`" in message:
            return (
                f"`base_momentum` must be <= `max_momentum` ({self.max_momentum:.3f}). "
                f"Received: base_momentum={self.base_momentum:.3f}"
            )
        return message


def _momentum_title(settings: ExplorerSettings, momentum: np.ndarray | None) -> str:
    if momentum is None:
        constant = round(float(settings.max_momentum), 3)
        return f"momentum: constant {constant:g} (tick 'cyclical momentum' to cycle it)"
    return "momentum, moving against the rate"


def _cyclic_picture(
    settings: ExplorerSettings,
    policy: CyclicPolicy,
    momentum_policy: Any,
    lr: np.ndarray,
    momentum: np.ndarray | None,
) -> Picture:
    n, it = lr.size, np.arange(lr.size)
    compare = {}
    if settings.compare:
        gamma = policy.gamma if policy.mode in EXP_MODES else GAMMA_DEFAULTS["exp_range"]
        for mode in MODES:
            if mode == settings.mode:
                continue  # it is "this policy": drawn once, listed once
            compare[mode] = CyclicPolicy(
                policy.base_lr,
                policy.max_lr,
                policy.step_size,
                mode,
                gamma if mode in EXP_MODES else 1.0,
                step_size_down=policy.step_size_down,
            )(it)
    period = policy.period
    starts = np.arange(period, n, period)
    peaks = np.arange(policy.step_size, n, period)
    if peaks.size:
        peaks = peaks[np.isclose(policy(peaks), policy.max_lr, rtol=1e-9)]
    lines = [policy_code(policy, "CyclicLR"), policy_code(policy, "CyclicalLearningRate")]
    imports = "import clr\nfrom clr.keras import CyclicLR, CyclicalLearningRate\n"
    if momentum_policy is not None:
        imports += "import clr.keras as ck\n"
        lines.append(
            f"momentum={call_code(momentum_policy, 'ck.CyclicalMomentum')}   # in ck.SGD(...)"
        )
    label = {v: k for k, v in CUSTOM_MODES.items()}.get(settings.mode, settings.mode)
    return Picture(
        policy,
        momentum_policy,
        lr,
        momentum,
        compare,
        starts if starts.size <= 200 else np.array([]),  # beyond 200 lines: a grey wash
        (peaks, np.full(peaks.size, policy.max_lr)),
        label,
        "cycle boundary",
        "max_lr reached",
        _momentum_title(settings, momentum),
        "highest lr",
        f", max_lr reached {peaks.size} time{'s' if peaks.size != 1 else ''}\ncycles shown: "
        f"{n / period:.3g} (period {fmt(period)} iterations)",
        policy_formula(policy),
        imports + "\n".join(lines),
    )


def _one_cycle_picture(
    policy: OneCyclePolicy, momentum_policy: Any, lr: np.ndarray, momentum: np.ndarray
) -> Picture:
    ends = phase_ends(policy.total_steps, policy.pct_start, policy.three_phase)[:-1]
    peak = int(np.argmax(lr))
    layout = (
        "three phases (the papers')" if policy.three_phase else "two phases (PyTorch's default)"
    )
    code = (
        "import clr.keras as ck\noptimizer = ck.SGD(\n"
        f"    learning_rate={call_code(policy, 'ck.OneCycle')},\n"
        f"    momentum={call_code(momentum_policy, 'ck.OneCycleMomentum')},\n)"
    )
    return Picture(
        policy,
        momentum_policy,
        lr,
        momentum,
        {},
        np.asarray(ends, dtype=float),
        (np.array([peak]), np.array([lr[peak]])),
        f"1cycle, {layout}",
        "phase boundary",
        "max_lr",
        "momentum, moving against the rate",
        "peak",
        f" at iteration {peak:,}; momentum {momentum[peak]:.3g} there, {momentum[0]:.3g} at the "
        "start",
        one_cycle_formula(policy),
        code,
    )
