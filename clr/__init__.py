"""Cyclical learning rates (Smith 2017, arXiv:1506.01186) you can see, train and teach.

``import clr`` needs numpy only. The Keras schedules, callback and optimizers live in
``clr.keras``, which imports Keras when you import it; the paper's CIFAR-10 comparison lives in
``clr.cifar10``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Each public name and the module that holds it. They load on first use (PEP 562): the package
# itself imports nothing, so `python -m clr.experiments` sets up its Ctrl-C handling before
# numpy loads, and an interrupt while starting is one line rather than a traceback.
_HOMES = {
    "._one_cycle": (
        "CyclicMomentumPolicy", "OneCycleMomentumPolicy", "OneCyclePolicy", "cyclic_momentum",
        "one_cycle", "one_cycle_momentum",
    ),
    "._policies": (
        "EXP_MODES", "MODES", "SCALE_MODES", "CyclicPolicy", "StepSizeRange", "cyclic_lr",
        "step_size_range",
    ),
    "._scales": ("ConstantScale", "ExpScale", "HalvingScale", "ScaleFunction", "SineScale"),
    "._schedules": ("Constant", "Exponential", "Join", "Linear", "Offset", "Schedule"),
    "._range_result": ("RangeTestResult", "Suggestion", "Suggestions"),
    ".range_test": ("lr_range_test",),
}  # fmt: skip
_HOME = {name: module for module, names in _HOMES.items() for name in names}

if TYPE_CHECKING:  # what type checkers and editors see
    from ._one_cycle import (
        CyclicMomentumPolicy,
        OneCycleMomentumPolicy,
        OneCyclePolicy,
        cyclic_momentum,
        one_cycle,
        one_cycle_momentum,
    )
    from ._policies import (
        EXP_MODES,
        MODES,
        SCALE_MODES,
        CyclicPolicy,
        StepSizeRange,
        cyclic_lr,
        step_size_range,
    )
    from ._range_result import RangeTestResult, Suggestion, Suggestions
    from ._scales import ConstantScale, ExpScale, HalvingScale, ScaleFunction, SineScale
    from ._schedules import Constant, Exponential, Join, Linear, Offset, Schedule
    from .range_test import lr_range_test


def _version() -> str:
    """The installed distribution's version (``pip install cyclical-lr``); a source checkout
    that was never installed says so."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cyclical-lr")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> Any:
    import importlib

    if name == "__version__":
        value: Any = _version()
    elif name in _HOME:
        value = getattr(importlib.import_module(_HOME[name], __name__), name)
    else:
        raise AttributeError(f"module 'clr' has no attribute {name!r}")
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "__version__",
    "MODES",
    "EXP_MODES",
    "SCALE_MODES",
    "CyclicPolicy",
    "cyclic_lr",
    "StepSizeRange",
    "step_size_range",
    "ScaleFunction",
    "ConstantScale",
    "HalvingScale",
    "ExpScale",
    "SineScale",
    "Schedule",
    "Constant",
    "Exponential",
    "Linear",
    "Join",
    "Offset",
    "OneCyclePolicy",
    "OneCycleMomentumPolicy",
    "CyclicMomentumPolicy",
    "one_cycle",
    "one_cycle_momentum",
    "cyclic_momentum",
    "RangeTestResult",
    "Suggestion",
    "Suggestions",
    "lr_range_test",
]
