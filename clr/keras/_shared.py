"""What clr.keras's schedules, callback and optimizers share (private): checking a clr policy for
float32 and probing a custom ``scale_fn`` as a tensor before it reaches a compiled step, checking
a config before ``from_config``, and reading a Keras counter. Nothing public lives here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from keras import ops

from .._checks import check_float32
from .._one_cycle import CyclicMomentumPolicy, OneCyclePolicy
from .._policies import CyclicPolicy
from .._scales import ScaleFunction
from .._schedules import Join, Offset

__all__ = ["checked_for_keras", "checked_config", "count"]


def _check_float32_policy(policy: Any, prefix: str = "") -> None:
    """Refuse, at construction, a policy whose numbers float32 cannot hold: Keras evaluates
    the schedule in float32, where they would be infinite or zero (or, as divisors, overflow)."""
    if isinstance(policy, Join):
        for k, schedule in enumerate(policy.schedules):
            _check_float32_policy(schedule, f"{prefix}schedules[{k}].")
        return
    if isinstance(policy, Offset):
        _check_float32_policy(policy.schedule, f"{prefix}schedule.")
        return
    if dataclasses.is_dataclass(policy):
        for field in dataclasses.fields(policy):
            value = getattr(policy, field.name)
            if isinstance(value, float):
                check_float32(prefix + field.name, value)
            elif isinstance(value, ScaleFunction) and dataclasses.is_dataclass(value):
                _check_float32_policy(value, f"{prefix}{field.name}.")
    divisors: dict[str, float] = {}
    if isinstance(policy, CyclicPolicy):
        divisors = {"step_size": policy.step_size, "step_size_down": policy.resolved_step_size_down}
        check_float32(f"{prefix}max_lr - {prefix}base_lr", policy.max_lr - policy.base_lr)
        check_float32(f"{prefix}step_size + {prefix}step_size_down", policy.period, divisor=True)
    elif isinstance(policy, OneCyclePolicy):
        check_float32(f"{prefix}max_lr / {prefix}div_factor", policy.initial_lr)
        check_float32(
            f"{prefix}max_lr / {prefix}div_factor / {prefix}final_div_factor", policy.min_lr
        )
    elif isinstance(policy, CyclicMomentumPolicy):
        _check_float32_policy(policy.cycle, prefix)
    for name, value in divisors.items():
        check_float32(prefix + name, value, divisor=True)


def _probe_keras_scale_fn(policy: Any) -> None:
    """A custom ``scale_fn`` runs on float32 tensors inside the step: call it on the first cycles
    now, as a tensor, and refuse NaN, infinities, values outside [0, 1] or the wrong shape."""
    if isinstance(policy, CyclicMomentumPolicy):
        policy = policy.cycle
    if isinstance(policy, Join):
        for schedule in policy.schedules:
            _probe_keras_scale_fn(schedule)
        return
    if isinstance(policy, Offset):
        _probe_keras_scale_fn(policy.schedule)
        return
    if not isinstance(policy, CyclicPolicy) or policy.scale_fn is None:
        return
    if isinstance(policy.scale_fn, ScaleFunction):
        return
    on_cycle = policy.resolved_scale_mode == "cycle"
    probe = (
        np.arange(1.0, 17.0, dtype=np.float32)
        if on_cycle
        else np.linspace(0.0, 16.0 * policy.period, 65).astype(np.float32)
    )
    name = "cycle numbers" if on_cycle else "iterations"
    fn = policy.scale_fn
    try:
        values = ops.convert_to_numpy(fn(ops.convert_to_tensor(probe, "float32")))
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), probe.shape)
    except Exception as err:
        raise TypeError(
            f"`scale_fn` failed on a float32 tensor of {name} ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); inside Keras it must accept a "
            f"tensor (write it with keras.ops) and return values in [0, 1]. Received: "
            f"scale_fn={fn!r}"
        ) from None
    bad = ~np.isfinite(values) | (values < 0.0) | (values > 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"`scale_fn` must return finite values in [0, 1]; on a float32 tensor it returned "
            f"{values[i]!r} at {name[:-1]} {probe[i]:g}. Received: scale_fn={fn!r}"
        )


def checked_for_keras(policy: Any) -> Any:
    _check_float32_policy(policy)
    _probe_keras_scale_fn(policy)
    return policy


def checked_config(
    cls: type, config: Any, known: set[str], required: set[str] = frozenset()
) -> dict[str, Any]:
    """A config for ``cls.from_config``: a dict with no unknown keys and the required ones,
    or one line naming what is wrong (never a TypeError from deep inside)."""
    if not isinstance(config, dict):
        raise TypeError(
            f"`config` of {cls.__name__} must be a dict. Received: config={config!r}"[:300]
        )
    unknown = sorted(set(config) - known - {"name"})
    missing = sorted(required - set(config))
    if unknown or missing:
        what = "; ".join(
            ([f"unknown keys {unknown}"] if unknown else [])
            + ([f"missing keys {missing}"] if missing else [])
        )
        raise ValueError(
            f"`config` of {cls.__name__} has {what}; its keys are {sorted(known | {'name'})}."
        )
    return dict(config)


def count(variable: Any) -> int:
    """A Keras integer variable's value (``int(variable)`` fails before Keras 3.4)."""
    return int(ops.convert_to_numpy(variable))
