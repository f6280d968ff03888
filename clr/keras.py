"""Cyclical learning rates for Keras 3: a schedule and a callback over the numpy policies.

Which one to use:

* :class:`CyclicalLearningRate` (a ``LearningRateSchedule``) for training: it runs inside
  the optimizer step on any backend, costs nothing measurable, works with
  ``steps_per_execution > 1`` and XLA, and its position is ``optimizer.iterations``, so a
  model saved to ``.keras`` and loaded again continues the cycle where it stopped.
* :class:`CyclicLR` (a ``Callback``, the seed's API) when you want to change the cycle while
  training (``reset`` with new bounds, as the paper's three-phase triangular2 run does) or a
  per-iteration ``history`` of lr and logged metrics. It sets the optimizer's rate before
  every batch, so the optimizer must be built with a float learning rate.

Importing this module imports Keras; ``import clr`` alone does not.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import keras
from keras import ops

from ._policies import CyclicPolicy, ScaleFn, _check_number, cyclic_formula
from ._range_test import RangeTestResult
from ._scales import ConstantScale, ExpScale, HalvingScale, SineScale

__all__ = ["CyclicalLearningRate", "CyclicLR", "lr_range_test"]

# The built-in scale functions serialize by name inside a saved model's optimizer config.
for _cls in (ConstantScale, HalvingScale, ExpScale, SineScale):
    keras.saving.register_keras_serializable(package="clr")(_cls)


@keras.saving.register_keras_serializable(package="clr")
class CyclicalLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """Cyclical learning rate as a Keras schedule, evaluated at ``optimizer.iterations``.

    The same policy as :func:`clr.cyclic_lr` (same arguments, same validation), computed
    with ``keras.ops`` in float32 so it runs on any backend. Iteration *i* (0-based) trains
    with ``cyclic_lr(i)``. ``exp_range`` counts ``gamma**iterations`` from the optimizer's
    first step.

    A custom ``scale_fn`` is called on a float32 tensor inside the training step: write it
    with ``keras.ops`` (or use the built-ins ``clr.SineScale``, ``clr.ExpScale``, ...). To
    save a model that uses a custom one, register it with
    ``keras.saving.register_keras_serializable``.

    Examples:
        >>> schedule = CyclicalLearningRate(base_lr=0.001, max_lr=0.006, step_size=2000)
        >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    """

    def __init__(
        self,
        base_lr: float = 0.001,
        max_lr: float = 0.006,
        step_size: float = 2000,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: ScaleFn | None = None,
        scale_mode: str | None = None,
        step_size_down: float | None = None,
        name: str = "CyclicalLearningRate",
    ) -> None:
        super().__init__()
        self.policy = CyclicPolicy(
            base_lr=base_lr,
            max_lr=max_lr,
            step_size=step_size,
            mode=mode,
            gamma=gamma,
            scale_fn=scale_fn,
            scale_mode=scale_mode,
            step_size_down=step_size_down,
        )
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode
        self.step_size_down = step_size_down
        self.name = name

    def __call__(self, step: Any) -> Any:
        policy = self.policy
        return cyclic_formula(
            ops.cast(step, "float32"),
            base_lr=policy.base_lr,
            max_lr=policy.max_lr,
            step_size=policy.step_size,
            step_size_down=policy.resolved_step_size_down,
            scale_fn=policy.resolved_scale_fn,
            scale_mode=policy.resolved_scale_mode,
            xp=ops,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "scale_fn": None if self.scale_fn is None else keras.saving.serialize_keras_object(self.scale_fn),
            "scale_mode": self.scale_mode,
            "step_size_down": self.step_size_down,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "CyclicalLearningRate":
        config = dict(config)
        if config.get("scale_fn") is not None:
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)


class CyclicLR(keras.callbacks.Callback):
    """The seed's Keras ``CyclicLR`` callback (bckenstler/CLR), for Keras 3.

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

    def __init__(
        self,
        base_lr: float = 0.001,
        max_lr: float = 0.006,
        step_size: float = 2000.0,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: ScaleFn | None = None,
        scale_mode: str | None = None,
        step_size_down: float | None = None,
    ) -> None:
        super().__init__()
        self.policy = CyclicPolicy(
            base_lr=base_lr,
            max_lr=max_lr,
            step_size=step_size,
            mode=mode,
            gamma=gamma,
            scale_fn=scale_fn,
            scale_mode=scale_mode,
            step_size_down=step_size_down,
        )
        self.clr_iterations = 0
        self.trn_iterations = 0
        self.history: dict[str, list[float]] = {}
        self._steps_per_batch = 1

    # The seed exposes these as attributes; here they read from the (validated) policy.
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
        self.policy = self.policy.replace(**{k: v for k, v in changes.items() if v is not None})
        self.clr_iterations = 0

    _reset = reset  # the seed's name

    def get_state(self) -> dict[str, Any]:
        """Counters and bounds, to continue the schedule in a new callback with :meth:`set_state`."""
        return {
            "clr_iterations": self.clr_iterations,
            "trn_iterations": self.trn_iterations,
            "base_lr": self.policy.base_lr,
            "max_lr": self.policy.max_lr,
            "step_size": self.policy.step_size,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.policy = self.policy.replace(
            base_lr=state["base_lr"], max_lr=state["max_lr"], step_size=state["step_size"]
        )
        self.clr_iterations = int(state["clr_iterations"])
        self.trn_iterations = int(state["trn_iterations"])

    # -- Keras hooks ---------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        if not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable):
            raise TypeError(
                "CyclicLR sets the optimizer's learning rate every batch, so the optimizer must be "
                "built with a float `learning_rate`; this one was built with "
                f"{type(getattr(optimizer, '_learning_rate', None)).__name__}. To use a schedule "
                "instead, pass clr.keras.CyclicalLearningRate(...) as the optimizer's learning_rate "
                "and drop this callback."
            )
        steps = int(getattr(self.model, "steps_per_execution", 1) or 1)
        self._steps_per_batch = steps
        if steps > 1:
            warnings.warn(
                f"steps_per_execution={steps}: Keras calls callbacks once per {steps} steps, so "
                f"CyclicLR holds each learning rate for {steps} steps. For a rate that changes every "
                "step, use clr.keras.CyclicalLearningRate as the optimizer's learning_rate.",
                UserWarning,
                stacklevel=2,
            )

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._lr = self.clr()
        self.model.optimizer.learning_rate = self._lr
        if self._steps_per_batch > 1:
            self._iterations_at_begin = int(self.model.optimizer.iterations)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        history = self.history
        history.setdefault("lr", []).append(self._lr)
        history.setdefault("iterations", []).append(self.trn_iterations)
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(value)
        steps = 1
        if self._steps_per_batch > 1:
            steps = int(self.model.optimizer.iterations) - self._iterations_at_begin
        self.trn_iterations += steps
        self.clr_iterations += steps


def lr_range_test(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    min_lr: float,
    max_lr: float,
    iterations: int | None = None,
    epochs: float | None = None,
    sweep: str = "linear",
    batch_size: int = 32,
    validation_data: tuple[Any, Any] | None = None,
    eval_every: int | None = None,
    smoothing: float = 0.98,
    stop_factor: float | None = 4.0,
    seed: int = 0,
    verbose: int = 1,
) -> RangeTestResult:
    """Smith's LR range test: train one batch per rate while the rate rises from ``min_lr`` to
    ``max_lr``, recording the true loss of every batch; then put the model back.

    The paper's CIFAR-10 test is a ``"linear"`` sweep over 8 epochs with accuracy on held-out
    data (``validation_data``, every ``eval_every`` iterations); ``"exp"`` spaces the rates
    geometrically, as fastai does. Each batch's loss comes from ``train_on_batch`` (Keras'
    batch-end logs hold a running mean since the epoch began, which shifts the curve right).
    The sweep stops early when the smoothed loss exceeds ``stop_factor`` times its best or is
    not finite, and the result says so.

    Afterwards the model's weights and the optimizer's variables (its step count, momentum,
    learning rate) are exactly what they were before, also when the sweep stopped early or was
    interrupted by an exception or KeyboardInterrupt. An optimizer not yet built is built first,
    so its fresh state is what comes back.

    Args:
        model: a compiled model whose optimizer has a float learning rate.
        x, y: training inputs and targets (arrays); batches are drawn in a seeded order.
        min_lr, max_lr: the swept range, ``0 < min_lr < max_lr``.
        iterations, epochs: the length of the sweep; give one (``epochs`` counts passes over
            ``x``). At least 10 iterations.
        sweep: ``"linear"`` or ``"exp"``.
        validation_data: ``(x_val, y_val)`` evaluated every ``eval_every`` iterations (default:
            about 40 evaluations over the sweep).
        smoothing: beta of the debiased moving average of the loss, in [0, 1).
        stop_factor: stop when the smoothed loss exceeds this times its best; None never stops.

    Returns:
        A :class:`clr.RangeTestResult`: ``.suggest()``, ``.plot()``, ``.save(path)``.
    """
    import numpy as np

    min_lr = _check_number("min_lr", min_lr, low=0.0, low_inclusive=False)
    max_lr = _check_number("max_lr", max_lr, low=0.0, low_inclusive=False)
    if max_lr <= min_lr:
        raise ValueError(f"`max_lr` must be > `min_lr` ({min_lr!r}). Received: max_lr={max_lr!r}")
    if sweep not in ("linear", "exp"):
        raise ValueError(f"`sweep` must be 'linear' or 'exp'. Received: sweep={sweep!r}")
    if (iterations is None) == (epochs is None):
        raise ValueError(f"Give exactly one of `iterations` and `epochs`. Received: iterations={iterations!r}, epochs={epochs!r}")
    n = len(x)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n:
        raise ValueError(f"`batch_size` must be an integer in [1, {n}] (the number of examples). Received: batch_size={batch_size!r}")
    per_epoch = math.ceil(n / batch_size)
    if epochs is not None:
        epochs = _check_number("epochs", epochs, low=0.0, low_inclusive=False)
        iterations = round(epochs * per_epoch)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 10:
        raise ValueError(f"The sweep needs at least 10 iterations to show anything. Received: iterations={iterations!r}")
    if not (isinstance(smoothing, (int, float)) and 0 <= smoothing < 1):
        raise ValueError(f"`smoothing` must be in [0, 1). Received: smoothing={smoothing!r}")
    if stop_factor is not None:
        stop_factor = _check_number("stop_factor", stop_factor, low=1.0, low_inclusive=False)
    if eval_every is None:
        eval_every = max(1, iterations // 40)
    elif isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1:
        raise ValueError(f"`eval_every` must be an integer >= 1. Received: eval_every={eval_every!r}")
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError("`model` must be compiled (with an optimizer and a loss) before the range test.")
    if not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable):
        raise TypeError("lr_range_test sets the optimizer's learning rate each batch: compile the model with a float `learning_rate`, not a schedule.")

    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    weights = [np.array(v) for v in model.weights]
    optimizer_state = [np.array(v) for v in optimizer.variables]

    t = np.arange(iterations) / max(iterations - 1, 1)
    lrs = min_lr + (max_lr - min_lr) * t if sweep == "linear" else min_lr * (max_lr / min_lr) ** t
    order = np.random.default_rng(seed).permutation(n)
    losses, accuracies, smooth = [], [], []
    val_it, val_loss, val_acc = [], [], []
    avg, best, stop_reason = 0.0, math.inf, None
    progress = keras.utils.Progbar(iterations, verbose=verbose, stateful_metrics=["lr", "smoothed_loss"])
    try:
        for i, lr in enumerate(lrs):
            start = (i % per_epoch) * batch_size
            if i % per_epoch == 0 and i:
                order = np.random.default_rng([seed, i // per_epoch]).permutation(n)
            idx = order[start : start + batch_size]
            optimizer.learning_rate = float(lr)
            logs = model.train_on_batch(x[idx], None if y is None else y[idx], return_dict=True)
            loss = float(logs["loss"])
            losses.append(loss)
            acc_key = next((k for k in logs if "acc" in k), None)
            if acc_key is not None:
                accuracies.append(float(logs[acc_key]))
            avg = smoothing * avg + (1 - smoothing) * loss
            smoothed = avg / (1 - smoothing ** (i + 1))
            smooth.append(smoothed)
            if validation_data is not None and (i % eval_every == 0 or i == iterations - 1):
                result = model.evaluate(*validation_data, batch_size=max(batch_size, 256), verbose=0, return_dict=True)
                val_it.append(i)
                val_loss.append(float(result["loss"]))
                key = next((k for k in result if "acc" in k), None)
                if key is not None:
                    val_acc.append(float(result[key]))
            progress.update(i + 1, [("lr", float(lr)), ("smoothed_loss", smoothed)])
            if not math.isfinite(smoothed):
                stop_reason = f"the loss became {loss} at iteration {i}"
                break
            best = min(best, smoothed)
            if stop_factor is not None and smoothed > stop_factor * best:
                stop_reason = f"the smoothed loss {smoothed:.3g} passed {stop_factor:g} x its best {best:.3g} at iteration {i}"
                break
    finally:
        # Put everything back, whatever happened above (divergence, an exception, Ctrl-C).
        for variable, value in zip(model.weights, weights):
            variable.assign(value)
        for variable, value in zip(optimizer.variables, optimizer_state):
            variable.assign(value)
        model.stop_training = False
    done = len(losses)
    return RangeTestResult(
        lr=lrs[:done],
        loss=np.array(losses),
        smoothed_loss=np.array(smooth),
        accuracy=np.array(accuracies) if accuracies else None,
        val_iterations=np.array(val_it, dtype=int),
        val_loss=np.array(val_loss),
        val_accuracy=np.array(val_acc) if val_acc else None,
        sweep=sweep,
        min_lr=min_lr,
        max_lr=max_lr,
        planned_iterations=iterations,
        stopped_early=stop_reason is not None,
        stop_reason=stop_reason,
    )
