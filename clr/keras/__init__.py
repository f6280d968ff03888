"""Cyclical learning rates for Keras 3, laid out as Keras lays itself out.

- ``clr.keras.schedules``: the policies as learning-rate schedules (``CyclicalLearningRate``,
  ``OneCycle``, ``OneCycleMomentum``, ``CyclicalMomentum``, ``PolicySchedule``), as
  ``keras.optimizers.schedules``;
- ``clr.keras.callbacks``: the original ``CyclicLR`` callback, as ``keras.callbacks``;
- ``clr.keras.optimizers``: ``SGD``, ``Adam``, ``RMSprop``, ``Adagrad``, ``Adadelta`` with
  scheduled momentum/``beta_1`` and per-variable rate multipliers, as ``keras.optimizers``;
- ``clr.keras._shared``: what they share (private).

Every public name is importable from ``clr.keras`` itself. Which one to use:

* :class:`CyclicalLearningRate` (a ``LearningRateSchedule``) for training: it runs inside
  the optimizer step on any backend, costs nothing measurable, works with
  ``steps_per_execution > 1`` and XLA, and its position is the optimizer's count of updates,
  so a model saved to ``.keras`` and loaded again continues the cycle where it stopped.
* :class:`CyclicLR` (a ``Callback``, the original callback's API) when you want to change the
  cycle while training (``reset`` with new bounds, as the paper's three-phase triangular2 run
  does) or a per-iteration ``history`` of lr and logged metrics. It sets the optimizer's rate
  before every batch, so the optimizer must be built with a float learning rate.

Importing this package imports Keras (here, the one place that says what to install when it
is missing); ``import clr`` alone does not.
"""

from __future__ import annotations

try:
    import keras
except ImportError as err:  # say what to install, not only what is missing
    raise ImportError(
        "clr.keras needs Keras 3 and a backend: pip install 'cyclical-lr[keras]' keeps your "
        "TensorFlow, JAX or PyTorch (or add one: 'cyclical-lr[tensorflow-cpu]'). "
        f"Import failed: {err}"
    ) from err
if not keras.__version__.startswith("3."):
    raise ImportError(f"clr.keras needs Keras 3; this is Keras {keras.__version__}.")

from .callbacks import CyclicLR  # noqa: E402
from .optimizers import SGD, Adadelta, Adagrad, Adam, RMSprop, learning_rate_schedule  # noqa: E402
from .schedules import (  # noqa: E402
    CyclicalLearningRate,
    CyclicalMomentum,
    OneCycle,
    OneCycleMomentum,
    PolicySchedule,
)

__all__ = [
    "CyclicalLearningRate",
    "OneCycle",
    "OneCycleMomentum",
    "CyclicalMomentum",
    "PolicySchedule",
    "CyclicLR",
    "SGD",
    "Adam",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "learning_rate_schedule",
]
