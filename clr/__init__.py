"""Cyclical learning rates (Smith 2017, arXiv:1506.01186) you can see, train and teach.

``import clr`` needs numpy only. The Keras schedules, callback and optimizers live in
``clr.keras``, which imports Keras when you import it; the paper's CIFAR-10 comparison lives in
``clr.cifar10``.
"""

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
from ._scales import ConstantScale, ExpScale, HalvingScale, ScaleFunction, SineScale
from ._schedules import Constant, Exponential, Join, Linear, Offset, Schedule
from .range_test import RangeTestResult, Suggestion, Suggestions, lr_range_test


def _version() -> str:
    """The installed distribution's version (``pip install cyclical-lr``); a source checkout
    that was never installed says so."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cyclical-lr")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()

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
