"""clr's policies as Keras learning-rate schedules (``keras.optimizers.schedules``): each a small
serializable class whose ``__call__(step)`` evaluates the policy's one formula with ``keras.ops``
in float32, inside the compiled step, on any backend.

The step is whatever the optimizer passes: clr.keras's optimizers pass the count of applied
updates (``optimizer.iterations``), for the learning rate and for momentum/``beta_1`` alike.
The formulas themselves live in clr's numpy core; the callback and the optimizers live in
``callbacks`` and ``optimizers``.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import keras
from keras import ops

from .._one_cycle import CyclicMomentumPolicy, OneCycleMomentumPolicy, OneCyclePolicy
from .._policies import CyclicPolicy
from .._scales import ConstantScale, ExpScale, HalvingScale, SineScale
from .._serialize import from_config, to_config
from ._shared import checked_config, checked_for_keras

__all__ = [
    "CyclicalLearningRate",
    "OneCycle",
    "OneCycleMomentum",
    "CyclicalMomentum",
    "PolicySchedule",
]

# The built-in scale functions serialize by name inside a saved model's optimizer config.
for _cls in (ConstantScale, HalvingScale, ExpScale, SineScale):
    keras.saving.register_keras_serializable(package="clr")(_cls)


class _PolicyKerasSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A Keras schedule over one of clr's numpy policy dataclasses: it takes the policy's own
    arguments by the same names (``policy_class`` is their one home: its fields, defaults and
    validation), evaluates the policy's formula with ``keras.ops`` in float32 at the
    optimizer's step, and returns every argument under its own name from ``get_config``."""

    policy_class: type

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # help() and inspect show the policy's own arguments, plus Keras' `name`.
        parameters = list(inspect.signature(cls.policy_class).parameters.values())
        name = inspect.Parameter(
            "name", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"
        )
        cls.__signature__ = inspect.Signature([*parameters, name])

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.policy = checked_for_keras(self.policy_class(*args, **kwargs))
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string or None. Received: name={name!r}")
        self.name = name or type(self).__name__

    def bounds(self) -> tuple[float, float]:
        """The least and the greatest value of the schedule (its policy's ``bounds()``)."""
        return self.policy.bounds()

    def _step(self, step: Any) -> Any:
        return ops.cast(step, "float32")

    def __call__(self, step: Any) -> Any:
        return self.policy.formula(self._step(step), ops)

    def get_config(self) -> dict[str, Any]:
        config = {f.name: getattr(self.policy, f.name) for f in dataclasses.fields(self.policy)}
        if config.get("scale_fn") is not None:
            try:
                config["scale_fn"] = keras.saving.serialize_keras_object(config["scale_fn"])
            except TypeError as err:
                # Keras' message names the object, not which argument held it.
                raise TypeError(
                    "`scale_fn` cannot be saved with the model: use one of clr's scale "
                    "functions, a function, or an object with `get_config()` registered with "
                    f"`keras.saving.register_keras_serializable`. Keras said: {err}"
                ) from None
        return {**config, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        config = checked_config(cls, config, {f.name for f in dataclasses.fields(cls.policy_class)})
        if config.get("scale_fn") is not None:
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="clr")
class CyclicalLearningRate(_PolicyKerasSchedule):
    """Cyclical learning rate as a Keras schedule, evaluated at the optimizer's step.

    The same policy as :func:`clr.cyclic_lr` (the arguments of :class:`clr.CyclicPolicy`,
    same validation), computed with ``keras.ops`` in float32 so it runs on any backend.
    Iteration *i* (0-based) trains with ``cyclic_lr(i)``. ``exp_range`` counts
    ``gamma**iterations`` from the optimizer's first step.

    With clr's optimizers (:class:`clr.keras.SGD`, ``Adam``, ...) an iteration is an applied
    update, also under ``gradient_accumulation_steps`` (where Keras' own optimizers call a
    schedule with the micro-batch count instead) and when ``LossScaleOptimizer`` skips a step.

    A custom ``scale_fn`` is called on a float32 tensor inside the training step: write it
    with ``keras.ops`` (or use the built-ins ``clr.SineScale``, ``clr.ExpScale``, ...). To
    save a model that uses a custom one, register it with
    ``keras.saving.register_keras_serializable``.

    Examples:
        >>> schedule = CyclicalLearningRate(base_lr=0.001, max_lr=0.006, step_size=2000)
        >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    """

    policy_class = CyclicPolicy


@keras.saving.register_keras_serializable(package="clr")
class OneCycle(_PolicyKerasSchedule):
    """The 1cycle learning rate (:func:`clr.one_cycle`) as a Keras schedule.

    ``OneCycle(max_lr, total_steps, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
    final_div_factor=1e4, three_phase=False)``. Past ``total_steps`` it holds its last value
    (PyTorch raises; a compiled step cannot).
    """

    policy_class = OneCyclePolicy

    def _step(self, step: Any) -> Any:
        return ops.minimum(ops.cast(step, "float32"), float(self.policy.total_steps - 1))


@keras.saving.register_keras_serializable(package="clr")
class OneCycleMomentum(OneCycle):
    """The momentum of 1cycle (:func:`clr.one_cycle_momentum`) as a schedule of the step, for
    ``clr.keras.SGD(momentum=...)`` or ``clr.keras.Adam(beta_1=...)``."""

    policy_class = OneCycleMomentumPolicy


@keras.saving.register_keras_serializable(package="clr")
class CyclicalMomentum(_PolicyKerasSchedule):
    """Cyclical momentum (:func:`clr.cyclic_momentum`), opposite to :class:`CyclicalLearningRate`,
    as a schedule of the step for ``clr.keras.SGD(momentum=...)``/``Adam(beta_1=...)``."""

    policy_class = CyclicMomentumPolicy


@keras.saving.register_keras_serializable(package="clr")
class PolicySchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Any clr policy or composed schedule as a Keras schedule, evaluated at the step.

    ``policy`` is an object with ``formula(iterations, xp)``: :class:`clr.CyclicPolicy`, or
    the composable schedules ``clr.Constant``, ``clr.Exponential``, ``clr.Linear`` and
    ``clr.Join`` (the paper's three-phase ``triangular2`` is a ``Join`` of three policies).
    The formula is the very one numpy evaluates for plots, run here with ``keras.ops`` in
    float32 inside the compiled step, on any backend. Use it for the learning rate, or for
    ``momentum``/``beta_1`` of :class:`SGD` and :class:`Adam`.

    Examples:
        >>> import clr
        >>> first = clr.CyclicPolicy(0.001, 0.005, 2000, mode="triangular2")
        >>> second = clr.CyclicPolicy(0.0001, 0.0005, 1000, mode="triangular2")
        >>> phases = clr.Join((first, second), (16_000,))
        >>> optimizer = keras.optimizers.SGD(learning_rate=PolicySchedule(phases), momentum=0.9)
    """

    def __init__(self, policy: Any, name: str = "PolicySchedule") -> None:
        super().__init__()
        if not callable(getattr(policy, "formula", None)):
            raise TypeError(
                "`policy` must be a clr policy or schedule (an object with a `formula(iterations, "
                "xp)` "
                f"method, such as clr.CyclicPolicy or clr.Join). Received: policy={policy!r}"
            )
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        self.policy = checked_for_keras(policy)
        self.name = name

    def bounds(self) -> tuple[float, float]:
        """The least and the greatest value of the schedule (its policy's ``bounds()``)."""
        bounds = getattr(self.policy, "bounds", None)
        if not callable(bounds):
            raise TypeError(f"{type(self.policy).__name__} cannot say its bounds.")
        return bounds()

    def __call__(self, step: Any) -> Any:
        # A policy with a horizon (1cycle) holds its last value past it, as OneCycle does.
        step = ops.cast(step, "float32")
        total = getattr(self.policy, "total_steps", None)
        if total is not None:
            step = ops.minimum(step, float(total - 1))
        return self.policy.formula(step, ops)

    def get_config(self) -> dict[str, Any]:
        return {
            "policy": to_config(self.policy, keras.saving.serialize_keras_object),
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PolicySchedule:
        config = checked_config(cls, config, {"policy", "name"}, required={"policy"})
        policy = from_config(config["policy"], keras.saving.deserialize_keras_object)
        return cls(policy, name=config.get("name", "PolicySchedule"))
