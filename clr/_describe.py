"""A policy as text: the call that builds it and its formula with the numbers filled in.

numpy only, so the explorer, the docs and the tests share it without ipywidgets. Each scale
function describes itself (``scale_fn.formula(on)``), so a custom built-in passed as
``scale_fn`` reads as what it computes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ._one_cycle import OneCyclePolicy, phase_ends
from ._policies import EXP_MODES, CyclicPolicy

__all__ = ["fmt", "policy_code", "policy_formula", "call_code", "one_cycle_formula"]


def fmt(x: float) -> str:
    """A number as the readouts, the formula and the code show it."""
    return f"{x:.6g}"


def policy_code(policy: CyclicPolicy, api: str = "CyclicLR") -> str:
    """The Python call that builds ``policy`` with ``api`` (``CyclicLR``, ``CyclicalLearningRate``
    or ``clr.cyclic_lr``), naming only arguments that differ from the defaults."""
    args = [
        f"base_lr={fmt(policy.base_lr)}",
        f"max_lr={fmt(policy.max_lr)}",
        f"step_size={fmt(policy.step_size)}",
    ]
    if policy.scale_fn is not None:
        args.append(f"scale_fn=clr.{policy.scale_fn!r}")
        if policy.resolved_scale_mode != "cycle":
            args.append(f"scale_mode={policy.resolved_scale_mode!r}")
    elif policy.mode != "triangular":
        args.append(f"mode={policy.mode!r}")
    if policy.mode in EXP_MODES:
        args.append(f"gamma={fmt(policy.gamma)}")
    if policy.step_size_down is not None:
        args.append(f"step_size_down={fmt(policy.step_size_down)}")
    return f"{api}({', '.join(args)})"


def policy_formula(policy: CyclicPolicy) -> str:
    """The policy's formula with its numbers filled in (plain text, one line per step)."""
    up, down = policy.step_size, policy.resolved_step_size_down
    cycle = f"cycle = floor(1 + i / {fmt(up + down)})"
    if up == down:
        triangle = f"triangle = max(0, 1 - |i / {fmt(up)} - 2*cycle + 1|)"
    else:
        triangle = (
            f"p = i - (cycle - 1)*{fmt(up + down)};  triangle = p / {fmt(up)} if p <= {fmt(up)} "
            f"else ({fmt(up + down)} - p) / {fmt(down)}"
        )
    on = "cycle" if policy.resolved_scale_mode == "cycle" else "i"
    scale_fn = policy.resolved_scale_fn
    describe = getattr(scale_fn, "formula", None)
    scale = (
        describe(on) if callable(describe) else f"{getattr(scale_fn, '__name__', 'scale_fn')}({on})"
    )
    amplitude = f"({fmt(policy.max_lr)} - {fmt(policy.base_lr)})"
    if policy.scale_bounds:  # the paper's exp_range: the whole band decays
        band = f"({fmt(policy.base_lr)} + {amplitude} * triangle)"
        return f"{cycle}\n{triangle}\nlr(i) = {band} * {scale}"
    return f"{cycle}\n{triangle}\nlr(i) = {fmt(policy.base_lr)} + {amplitude} * triangle * {scale}"


def call_code(policy: Any, api: str) -> str:
    """``api(...)`` with ``policy``'s arguments: the required ones always, the others only where
    they differ from their defaults (any of clr's policy dataclasses)."""
    args = []
    for field in dataclasses.fields(policy):
        value = getattr(policy, field.name)
        required = field.default is dataclasses.MISSING
        if required or value != field.default:
            shown = fmt(value) if isinstance(value, float) else repr(value)
            args.append(f"{field.name}={shown}")
    return f"{api}({', '.join(args)})"


def one_cycle_formula(policy: OneCyclePolicy) -> str:
    """1cycle's phases with their numbers filled in (plain text, one line per phase)."""
    ends = phase_ends(policy.total_steps, policy.pct_start, policy.three_phase)
    ends = [round(e, 2) for e in ends]
    start, peak, low = fmt(policy.initial_lr), fmt(policy.max_lr), fmt(policy.min_lr)
    curve = "cosine" if policy.anneal_strategy == "cos" else "straight line"
    up, down = f"0 .. {fmt(ends[0])}", f"{fmt(ends[0])} .. {fmt(ends[1])}"
    phases = [(up, start, peak), (down, peak, low)]
    if policy.three_phase:
        phases = [
            phases[0],
            (f"{fmt(ends[0])} .. {fmt(ends[1])}", peak, start),
            (f"{fmt(ends[1])} .. {fmt(ends[2])}", start, low),
        ]
    lines = [f"iterations {span}: {a} -> {b}" for span, a, b in phases]
    return "\n".join([f"each phase a {curve} (anneal_strategy={policy.anneal_strategy!r})", *lines])
