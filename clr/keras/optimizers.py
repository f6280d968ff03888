"""Keras' optimizers with what clr adds (``keras.optimizers``): momentum and ``beta_1`` that follow
a schedule inside the compiled step, and per-variable rate multipliers (Caffe's ``lr_mult``).

The schedules live in ``schedules``, the callback in ``callbacks``.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import numpy as np
from keras import ops

from .._checks import check_float32, check_number
from .schedules import PolicySchedule

__all__ = ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "learning_rate_schedule"]


def learning_rate_schedule(optimizer: keras.optimizers.Optimizer) -> Any:
    """The schedule an optimizer was built with, or None when its learning rate is a float
    (a variable that a callback may set).

    Keras 3 has no public way to ask: ``optimizer.learning_rate`` returns the current value
    either way. This is the one place in clr that reads the private ``_learning_rate``. A
    variable is told apart by its ``assign`` (``keras.Variable`` is not its class on every
    Keras 3 release).
    """
    value = getattr(optimizer, "_learning_rate", None)
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        return value
    return value if callable(value) and not hasattr(value, "assign") else None


def _as_learning_rate(learning_rate: Any) -> Any:
    """A learning rate as Keras takes it: a float (finite, >= 0, within float32), a Keras
    schedule or a callable (as Keras' own optimizers), a clr policy wrapped as a
    :class:`PolicySchedule` (whose values are >= 0 by construction)."""
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate
    if callable(getattr(learning_rate, "formula", None)):
        return PolicySchedule(learning_rate)
    if callable(learning_rate):
        # Keras calls it with no arguments at every step: a schedule-like `lambda step: ...`
        # would fail there, deep inside the first training step.
        try:
            inspect.signature(learning_rate).bind()
        except TypeError:
            raise TypeError(
                "`learning_rate` given as a callable must take no arguments (Keras calls it "
                "with none); for a function of the step, use a clr policy or a Keras "
                f"LearningRateSchedule. Received: learning_rate={learning_rate!r}"
            ) from None
        except ValueError:  # no signature to read (some builtins): Keras will tell
            pass
        return learning_rate
    value = check_number("learning_rate", learning_rate, low=0.0, low_inclusive=True)
    return check_float32("learning_rate", value)


def _as_hyperparameter(name: str, value: Any) -> Any:
    """A momentum-like hyper-parameter (``momentum``, ``beta_1``): a float in [0, 1), or a
    schedule of the step whose values stay in [0, 1) over its whole range, known from its
    ``bounds()`` (clr's policies and schedules, :class:`PolicySchedule` and clr's Keras
    schedules). A schedule that cannot say its bounds is refused: a value of 1 or more inside
    the compiled step would silently ruin training."""
    if callable(getattr(value, "formula", None)):  # a numpy clr policy: wrap it
        value = PolicySchedule(value)
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        bounds = getattr(value, "bounds", None)
        try:
            low, high = bounds() if callable(bounds) else (None, None)
        except TypeError:
            low, high = None, None
        if low is None:
            raise TypeError(
                f"`{name}` schedule {type(value).__name__} cannot be bounded, so its values "
                "cannot be checked to stay in [0, 1): use a clr schedule "
                "(clr.keras.OneCycleMomentum, CyclicalMomentum, PolicySchedule of a clr policy). "
                f"Received: {name}={value!r}"
            )
        if not (0.0 <= low and high < 1.0):
            raise ValueError(
                f"`{name}` must stay in [0, 1) at every step; this schedule ranges over "
                f"[{low:g}, {high:g}]. Received: {name}={value!r}"
            )
        return value
    number = check_number(name, value, low=0.0, low_inclusive=True, high=1.0, high_inclusive=False)
    return check_float32(name, number)


def _as_fraction(name: str, value: Any, high_inclusive: bool = False) -> float:
    """A number in [0, 1) (``beta_2``, ``rho``) that takes no schedule: a schedule is refused
    by name, since the Keras optimizer would bake it in as a constant."""
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule) or callable(
        getattr(value, "formula", None)
    ):
        raise TypeError(
            f"`{name}` takes a number, not a schedule: only clr.keras.SGD's `momentum` and "
            f"clr.keras.Adam's `beta_1` follow a schedule. Received: {name}={value!r}"
        )
    number = check_number(
        name, value, low=0.0, low_inclusive=True, high=1.0, high_inclusive=high_inclusive
    )
    return check_float32(name, number)


def _check_optimizer_numbers(kwargs: dict[str, Any]) -> None:
    """The usual Keras optimizer arguments, checked here rather than deep inside a step."""
    if "epsilon" in kwargs:
        kwargs["epsilon"] = check_float32(
            "epsilon", check_number("epsilon", kwargs["epsilon"], low=0.0), divisor=True
        )
    for name in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
        if kwargs.get(name) is not None:
            kwargs[name] = check_number(name, kwargs[name], low=0.0, low_inclusive=True)
    if "initial_accumulator_value" in kwargs:
        kwargs["initial_accumulator_value"] = check_number(
            "initial_accumulator_value",
            kwargs["initial_accumulator_value"],
            low=0.0,
            low_inclusive=True,
        )
    for name in ("beta_2", "rho"):
        if name in kwargs:
            kwargs[name] = _as_fraction(name, kwargs[name])
    if "momentum" in kwargs:  # RMSprop's: a number only
        kwargs["momentum"] = _as_fraction("momentum", kwargs["momentum"])


class _ClrOptimizer:
    """What clr adds to Keras' optimizers: per-variable learning-rate multipliers (Caffe's
    ``lr_mult``) and hyper-parameters given as schedules of ``optimizer.iterations``.

    A Keras optimizer bakes a float ``momentum`` into the compiled step: assigning
    ``optimizer.momentum = 0.0`` afterwards changes nothing (measured on Keras 3.15). Here a
    schedule is called on ``self.iterations`` in ``apply``, once per step, so it is part of the
    compiled step and changes every iteration, on any backend.

    One clock for every schedule: ``self.iterations``, the number of updates already applied.
    Update *i* (0-based) uses ``schedule(i)`` for the learning rate and for momentum/``beta_1``.
    Under ``gradient_accumulation_steps=k`` an update is *k* micro-batches (the paper's
    iteration is one update), where Keras' own optimizers evaluate a learning-rate schedule at
    the micro-batch count; a step that ``LossScaleOptimizer`` skips is not an update.
    """

    def _get_current_learning_rate(self) -> Any:
        # Keras evaluates a schedule at `_iterations`, which counts micro-batches under gradient
        # accumulation; the momentum schedules here count updates, and so must the rate.
        if isinstance(self._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            return self._learning_rate(self.iterations)
        return super()._get_current_learning_rate()

    def _init_multipliers(self, lr_multipliers: dict[str, float] | None) -> None:
        if lr_multipliers is not None and not isinstance(lr_multipliers, dict):
            raise TypeError(
                "`lr_multipliers` must be a dict {'layer/variable': factor} or None. Received: "
                f"lr_multipliers={lr_multipliers!r}"
            )
        multipliers = dict(lr_multipliers or {})
        for key, value in multipliers.items():
            if not isinstance(key, str) or not key:
                raise TypeError(
                    "`lr_multipliers` keys must be variable paths such as 'conv1/bias'. Received: "
                    f"{key!r}"
                )
            # >= 0: a multiplier of 0 freezes the variable, as Caffe's lr_mult: 0.
            multipliers[key] = check_float32(
                f"lr_multipliers[{key!r}]",
                check_number(f"lr_multipliers[{key!r}]", value, low=0.0, low_inclusive=True),
            )
        self.lr_multipliers = multipliers
        self._variable_multipliers: list[float] = []

    def build(self, variables: list[Any]) -> None:
        if self.built:
            return
        super().build(variables)  # SGD's momentum slots: whenever momentum is a schedule or not 0
        self._build_multipliers(variables)

    def _build_multipliers(self, variables: list[Any]) -> None:
        """One multiplier per variable, by path: ``layer/variable`` matches
        ``model/layer/variable``, since a model's name prefixes its paths before saving and not
        after loading."""
        paths = [v.path for v in variables]
        factors = [1.0] * len(variables)
        for key, factor in self.lr_multipliers.items():
            hits = [i for i, p in enumerate(paths) if p == key or p.endswith("/" + key)]
            if len(hits) != 1:
                raise ValueError(
                    f"`lr_multipliers` key {key!r} must name exactly one trainable variable; "
                    f"it matches {len(hits)}. Variables: {paths}"
                )
            factors[hits[0]] = factor
        self._variable_multipliers = factors

    def _scaled_learning_rate(self, learning_rate: Any, variable: Any) -> Any:
        if not self.lr_multipliers:
            return learning_rate
        factor = self._variable_multipliers[self._get_variable_index(variable)]
        return learning_rate if factor == 1.0 else learning_rate * factor

    # hyper-parameter -> the attribute holding its float or schedule
    _scheduled: dict[str, str] = {}
    _step_values: dict[str, Any] | None = None

    def apply(self, grads: Any, trainable_variables: Any = None) -> Any:
        # Evaluate each scheduled hyper-parameter once per step, not once per variable.
        # (apply is where every backend's step goes through, JAX's stateless_apply too.)
        step_values = {}
        for name, attribute in self._scheduled.items():
            value = getattr(self, attribute)
            if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
                step_values[name] = ops.cast(value(self.iterations), "float32")
        self._step_values = step_values
        try:
            return super().apply(grads, trainable_variables)
        finally:
            self._step_values = None

    def _value(self, name: str, hyperparameter: Any, dtype: Any) -> Any:
        if isinstance(hyperparameter, keras.optimizers.schedules.LearningRateSchedule):
            if self._step_values is not None and name in self._step_values:
                return ops.cast(self._step_values[name], dtype)
            return ops.cast(hyperparameter(self.iterations), dtype)
        return ops.cast(hyperparameter, dtype)

    def _config_with(self, config: dict[str, Any], **hyperparameters: Any) -> dict[str, Any]:
        for name, value in hyperparameters.items():
            if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
                value = keras.optimizers.schedules.serialize(value)
            config[name] = value
        config["lr_multipliers"] = dict(self.lr_multipliers)
        return config


def _deserialize_hyperparameters(
    config: dict[str, Any], names: tuple[str, ...], custom_objects: Any
) -> dict[str, Any]:
    config = dict(config)
    for name in names:
        if isinstance(config.get(name), dict):
            config[name] = keras.optimizers.schedules.deserialize(
                config[name], custom_objects=custom_objects
            )
    return config


@keras.saving.register_keras_serializable(package="clr")
class SGD(_ClrOptimizer, keras.optimizers.SGD):
    """Keras' SGD whose ``momentum`` may be a schedule, with per-variable rate multipliers.

    The update is Keras' (and Caffe's, and PyTorch's up to the sign of the velocity)::

        velocity = momentum(i) * velocity - lr(i) * lr_mult * g
        w = w + velocity                                   (nesterov=False)
        w = w + momentum(i) * velocity - lr(i) * lr_mult * g   (nesterov=True)

    Args:
        learning_rate: a float, a Keras schedule, or a clr policy (wrapped in
            :class:`PolicySchedule`).
        momentum: a float in [0, 1), or a schedule of the step (``OneCycleMomentum``,
            ``CyclicalMomentum``, a clr policy or ``PolicySchedule``) evaluated inside the
            compiled step; a schedule's values must stay in [0, 1) over its whole range (known
            from its bounds; a schedule that cannot say them is refused).
        nesterov: Nesterov momentum.
        lr_multipliers: ``{"layer/variable": factor}``: that variable trains at ``factor`` times
            the rate (Caffe's ``lr_mult``; see ``clr.cifar10.models.caffe_lr_multipliers``).
            Each key must match exactly one trainable variable when the optimizer is built.
        **kwargs: Keras' optimizer arguments (``weight_decay``, ``clipnorm``, ...).
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: Any = 0.0,
        nesterov: bool = False,
        lr_multipliers: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        learning_rate = _as_learning_rate(learning_rate)
        momentum = _as_hyperparameter("momentum", momentum)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"`nesterov` must be True or False. Received: nesterov={nesterov!r}")
        _check_optimizer_numbers(kwargs)
        # Keras wants a float; a schedule is kept beside it and used in update_step.
        super().__init__(
            learning_rate=learning_rate,
            momentum=0.5 if not isinstance(momentum, float) else momentum,
            nesterov=nesterov,
            **kwargs,
        )
        self.momentum = momentum
        self._init_multipliers(lr_multipliers)

    _scheduled = {"momentum": "momentum"}

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        learning_rate = ops.cast(
            self._scaled_learning_rate(learning_rate, variable), variable.dtype
        )
        gradient = ops.cast(gradient, variable.dtype)
        if isinstance(self.momentum, float) and self.momentum == 0:
            self.assign_sub(variable, ops.multiply(gradient, learning_rate))
            return
        momentum = self._value("momentum", self.momentum, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(
            m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate))
        )
        if self.nesterov:
            self.assign_add(
                variable,
                ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)),
            )
        else:
            self.assign_add(variable, m)

    def get_config(self) -> dict[str, Any]:
        return self._config_with(super().get_config(), momentum=self.momentum)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> SGD:
        return super().from_config(
            _deserialize_hyperparameters(config, ("momentum",), custom_objects), custom_objects
        )


@keras.saving.register_keras_serializable(package="clr")
class Adam(_ClrOptimizer, keras.optimizers.Adam):
    """Keras' Adam whose ``beta_1`` may be a schedule, with per-variable rate multipliers.

    With a moving ``beta_1`` the first moment is ``m = beta_1(i) * m + (1 - beta_1(i)) * g``
    and its bias correction divides by ``1 - beta_1(i) ** (i + 1)``: the *current* ``beta_1``
    raised to the step count, not the product of the past ones. That is exactly what PyTorch's
    Adam does under ``OneCycleLR``/``CyclicLR`` momentum cycling (it reads ``betas[0]`` each
    step), so the two agree; the correction is then only approximate while ``beta_1`` moves,
    which matters in the first few dozen steps and not after.

    Args:
        learning_rate: a float, a Keras schedule, or a clr policy.
        beta_1: a float in [0, 1), or a schedule of the step whose values stay in [0, 1)
            (as SGD's ``momentum``).
        lr_multipliers: as for :class:`SGD` (for Adam a multiplier scales the step size, as
            Caffe's ``lr_mult`` does, not the gradient).
        **kwargs: Keras' Adam arguments (``beta_2`` a number in [0, 1), ``epsilon`` > 0,
            ``amsgrad``, ...).
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: Any = 0.9,
        lr_multipliers: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        learning_rate = _as_learning_rate(learning_rate)
        # beta_1 = 1 would divide by 1 - 1**t = 0 in the bias correction.
        beta_1 = _as_hyperparameter("beta_1", beta_1)
        _check_optimizer_numbers(kwargs)
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1 if isinstance(beta_1, float) else 0.9,
            **kwargs,
        )
        self._beta_1 = beta_1  # Keras' own self.beta_1 is swapped for the value during a step
        self._init_multipliers(lr_multipliers)

    _scheduled = {"beta_1": "_beta_1"}

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        learning_rate = self._scaled_learning_rate(learning_rate, variable)
        # Keras' Adam reads self.beta_1 in its arithmetic only: give it this step's value while
        # it traces the update, then put the schedule back.
        self.beta_1 = self._value("beta_1", self._beta_1, variable.dtype)
        try:
            super().update_step(gradient, variable, learning_rate)
        finally:
            self.beta_1 = self._beta_1

    def get_config(self) -> dict[str, Any]:
        return self._config_with(super().get_config(), beta_1=self._beta_1)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Adam:
        return super().from_config(
            _deserialize_hyperparameters(config, ("beta_1",), custom_objects), custom_objects
        )


def _with_multipliers(base: type) -> type:
    """``base`` (a Keras optimizer) that also takes ``lr_multipliers``, as :class:`SGD` does."""

    class Optimizer(_ClrOptimizer, base):
        def __init__(
            self,
            learning_rate: Any = 0.001,
            lr_multipliers: dict[str, float] | None = None,
            **kwargs: Any,
        ) -> None:
            _check_optimizer_numbers(kwargs)
            super().__init__(learning_rate=_as_learning_rate(learning_rate), **kwargs)
            self._init_multipliers(lr_multipliers)

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
            super().update_step(
                gradient, variable, self._scaled_learning_rate(learning_rate, variable)
            )

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "lr_multipliers": dict(self.lr_multipliers)}

    Optimizer.__name__ = Optimizer.__qualname__ = base.__name__
    Optimizer.__doc__ = (
        f"Keras' {base.__name__} with per-variable ``lr_multipliers`` (Caffe's ``lr_mult``), "
        "for the paper's Table 3. The learning rate may be a schedule; its other "
        "hyper-parameters (``rho``, ``momentum``, ``epsilon``, ...) take numbers only, checked "
        "at construction: a schedule for them is refused (only :class:`SGD`'s ``momentum`` and "
        ":class:`Adam`'s ``beta_1`` follow one)."
    )
    return keras.saving.register_keras_serializable(package="clr")(Optimizer)


RMSprop = _with_multipliers(keras.optimizers.RMSprop)
Adagrad = _with_multipliers(keras.optimizers.Adagrad)
Adadelta = _with_multipliers(keras.optimizers.Adadelta)
