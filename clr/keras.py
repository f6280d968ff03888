"""Cyclical learning rates for Keras 3: a schedule and a callback over the numpy policies.

Which one to use:

* :class:`CyclicalLearningRate` (a ``LearningRateSchedule``) for training: it runs inside
  the optimizer step on any backend, costs nothing measurable, works with
  ``steps_per_execution > 1`` and XLA, and its position is ``optimizer.iterations``, so a
  model saved to ``.keras`` and loaded again continues the cycle where it stopped.
* :class:`CyclicLR` (a ``Callback``, the original callback's API) when you want to change the
  cycle while
  training (``reset`` with new bounds, as the paper's three-phase triangular2 run does) or a
  per-iteration ``history`` of lr and logged metrics. It sets the optimizer's rate before
  every batch, so the optimizer must be built with a float learning rate.

Importing this module imports Keras; ``import clr`` alone does not.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from typing import Any

import numpy as np

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
from keras import ops  # noqa: E402

from ._checks import check_float32, check_number, check_whole
from ._one_cycle import CyclicMomentumPolicy, OneCycleMomentumPolicy, OneCyclePolicy
from ._policies import CyclicPolicy
from ._scales import ConstantScale, ExpScale, HalvingScale, ScaleFunction, SineScale
from ._schedules import Join, Offset
from ._serialize import from_config, to_config

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

# The built-in scale functions serialize by name inside a saved model's optimizer config.
for _cls in (ConstantScale, HalvingScale, ExpScale, SineScale):
    keras.saving.register_keras_serializable(package="clr")(_cls)


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


def _checked_for_keras(policy: Any) -> Any:
    _check_float32_policy(policy)
    _probe_keras_scale_fn(policy)
    return policy


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
        self.policy = _checked_for_keras(self.policy_class(*args, **kwargs))
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
        config = _checked_config(
            cls, config, {f.name for f in dataclasses.fields(cls.policy_class)}
        )
        if config.get("scale_fn") is not None:
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="clr")
class CyclicalLearningRate(_PolicyKerasSchedule):
    """Cyclical learning rate as a Keras schedule, evaluated at ``optimizer.iterations``.

    The same policy as :func:`clr.cyclic_lr` (the arguments of :class:`clr.CyclicPolicy`,
    same validation), computed with ``keras.ops`` in float32 so it runs on any backend.
    Iteration *i* (0-based) trains with ``cyclic_lr(i)``. ``exp_range`` counts
    ``gamma**iterations`` from the optimizer's first step.

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
        self.policy = _checked_for_keras(policy)
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
        config = _checked_config(cls, config, {"policy", "name"}, required={"policy"})
        policy = from_config(config["policy"], keras.saving.deserialize_keras_object)
        return cls(policy, name=config.get("name", "PolicySchedule"))


def _checked_config(
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


class CyclicLR(keras.callbacks.Callback):
    """The original Keras ``CyclicLR`` callback (bckenstler/CLR), for Keras 3.

    Sets the optimizer's learning rate before every training batch: batch *i* trains with
    ``cyclic_lr(i)``, and ``base_lr`` overrides the rate the optimizer was built with.
    Calling ``fit`` again continues the cycle; :meth:`reset` starts a new one.

    Arguments, defaults and validation are those of :class:`clr.CyclicPolicy`
    (``scale_mode=None`` means the mode's own; a contradicting value raises).

    Attributes:
        history: per training iteration, ``"lr"`` (the rate that batch trained with),
            ``"iterations"`` (its 0-based index, counted across ``fit`` calls and resets, so
            ``plot(history["iterations"], history["lr"])`` is exact) and every metric Keras
            logged. Keras logs running means since the start of the epoch, not the loss of
            that batch.
        clr_iterations: the position in the current cycle schedule (0 after ``reset``).
        trn_iterations: training iterations seen, never reset.

    Raises:
        TypeError: at ``fit`` if the optimizer was built with a ``LearningRateSchedule``
            (use :class:`CyclicalLearningRate` instead of both).

    Warns:
        UserWarning: at ``fit`` when ``steps_per_execution > 1``: Keras then calls the
            callback once per execution, so each rate is held for several steps.
    """

    def __init__(self, *arguments: Any, **keywords: Any) -> None:
        super().__init__()
        self.policy = _checked_for_keras(CyclicPolicy(*arguments, **keywords))
        self.clr_iterations = 0
        self.trn_iterations = 0
        self.history: dict[str, list[float]] = {}
        self._steps_per_batch = 1

    # The original callback exposes these as attributes; here they read from the (validated) policy.
    base_lr = property(lambda self: self.policy.base_lr)
    max_lr = property(lambda self: self.policy.max_lr)
    step_size = property(lambda self: self.policy.step_size)

    def clr(self) -> float:
        """The learning rate for the next batch."""
        return self.policy(self.clr_iterations)

    def reset(
        self,
        new_base_lr: float | None = None,
        new_max_lr: float | None = None,
        new_step_size: float | None = None,
    ) -> None:
        """Start a new cycle at ``base_lr``, optionally with new bounds or step size.

        An argument left ``None`` keeps its current value; ``reset()`` restarts the same
        cycle. The amplitude scaling (``triangular2``'s halving, ``exp_range``'s decay)
        restarts too. ``history`` and ``trn_iterations`` are kept.
        """
        changes = {"base_lr": new_base_lr, "max_lr": new_max_lr, "step_size": new_step_size}
        self.policy = _checked_for_keras(
            self.policy.replace(**{k: v for k, v in changes.items() if v is not None})
        )
        self.clr_iterations = 0

    _reset = reset  # the original callback's name

    def get_state(self) -> dict[str, Any]:
        """Counters and bounds, to continue the schedule in a new callback (:meth:`set_state`)."""
        return {
            "clr_iterations": self.clr_iterations,
            "trn_iterations": self.trn_iterations,
            "base_lr": self.policy.base_lr,
            "max_lr": self.policy.max_lr,
            "step_size": self.policy.step_size,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`get_state`'s dict. Every key is checked (its type and range)
        before anything changes; a wrong one raises naming it."""
        keys = {"clr_iterations", "trn_iterations", "base_lr", "max_lr", "step_size"}
        if not isinstance(state, dict):
            raise TypeError(
                f"`state` must be a dict from get_state() with keys {sorted(keys)}. "
                f"Received: state={state!r}"[:300]
            )
        unknown, missing = sorted(set(state) - keys), sorted(keys - set(state))
        if unknown or missing:
            raise ValueError(
                f"`state` must have exactly the keys {sorted(keys)}; "
                + "; ".join(
                    ([f"unknown {unknown}"] if unknown else [])
                    + ([f"missing {missing}"] if missing else [])
                )
            )
        counters = {
            k: check_whole(f"state['{k}']", state[k], low=0)
            for k in ("clr_iterations", "trn_iterations")
        }
        policy = _checked_for_keras(
            self.policy.replace(
                base_lr=state["base_lr"], max_lr=state["max_lr"], step_size=state["step_size"]
            )
        )
        self.policy = policy
        self.clr_iterations = counters["clr_iterations"]
        self.trn_iterations = counters["trn_iterations"]

    # -- Keras hooks ---------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        if learning_rate_schedule(optimizer) is not None:
            raise TypeError(
                "CyclicLR sets the optimizer's learning rate every batch, so the optimizer must be "
                "built with a float `learning_rate`; this one was built with "
                f"{type(learning_rate_schedule(optimizer)).__name__}. To use a schedule "
                "instead, pass clr.keras.CyclicalLearningRate(...) as the optimizer's "
                "learning_rate "
                "and drop this callback."
            )
        steps = int(getattr(self.model, "steps_per_execution", 1) or 1)
        self._steps_per_batch = steps
        if steps > 1:
            warnings.warn(
                f"steps_per_execution={steps}: Keras calls callbacks once per {steps} steps, so "
                f"CyclicLR holds each learning rate for {steps} steps. For a rate that changes "
                "every "
                "step, use clr.keras.CyclicalLearningRate as the optimizer's learning_rate.",
                UserWarning,
                stacklevel=2,
            )

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._lr = self.clr()
        self.model.optimizer.learning_rate = self._lr
        if self._steps_per_batch > 1:
            self._iterations_at_begin = _count(self.model.optimizer.iterations)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        history = self.history
        history.setdefault("lr", []).append(self._lr)
        history.setdefault("iterations", []).append(self.trn_iterations)
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(value)
        steps = 1
        if self._steps_per_batch > 1:
            steps = _count(self.model.optimizer.iterations) - self._iterations_at_begin
        self.trn_iterations += steps
        self.clr_iterations += steps


def _count(variable: Any) -> int:
    """A Keras integer variable's value (``int(variable)`` fails before Keras 3.4)."""
    return int(ops.convert_to_numpy(variable))


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
    compiled step and changes every iteration, on any backend. During the step,
    ``self.iterations`` is the number of updates already applied: iteration *i* (0-based) uses
    ``schedule(i)``, as the learning rate does.
    """

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


# help(CyclicLR) and editors show the policy's arguments: CyclicPolicy is their one home.
CyclicLR.__signature__ = inspect.Signature(
    list(inspect.signature(CyclicPolicy).parameters.values())
)  # type: ignore[attr-defined]


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
