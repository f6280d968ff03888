"""The original Keras ``CyclicLR`` callback (bckenstler/CLR) for Keras 3 (``keras.callbacks``).

It sets a float learning rate before each batch, on the same clock as clr's schedules and
optimizers: the optimizer's count of applied updates. The schedules that run inside the
optimizer live in ``schedules``, the optimizers in ``optimizers``.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any

import keras

from .._checks import check_whole
from .._policies import CyclicPolicy
from ._shared import checked_for_keras, count
from .optimizers import learning_rate_schedule

__all__ = ["CyclicLR"]

# Keras' own callbacks that set the learning rate too: beside CyclicLR their change would last
# until the next batch.
_RATE_SETTERS = ("ReduceLROnPlateau", "LearningRateScheduler")


class CyclicLR(keras.callbacks.Callback):
    """The original Keras ``CyclicLR`` callback (bckenstler/CLR), for Keras 3.

    Sets the optimizer's learning rate before every training batch: the update that the
    optimizer applies as its *i*-th (0-based, counted by ``optimizer.iterations``) trains with
    ``cyclic_lr(i)``, and ``base_lr`` overrides the rate the optimizer was built with. Calling
    ``fit`` again continues the cycle; :meth:`reset` starts a new one.

    One clock, the optimizer's count of applied updates, as for clr's schedules and optimizers:

    * with ``gradient_accumulation_steps=k`` the *k* batches of one update share its rate;
    * a step that ``LossScaleOptimizer`` skips (a float16 overflow) applies nothing and does not
      advance the cycle, and ``history`` records only updates that were applied;
    * on a model whose optimizer has already stepped (``BackupAndRestore``, ``load_model`` and
      ``fit(initial_epoch=n)``, a new process) a new callback continues the cycle from the
      optimizer's count. Where it cannot know (the optimizer's count went back before the last
      :meth:`reset`, or ``fit`` resumes at a later epoch with an optimizer that has never
      stepped), one warning says what it does.

    Arguments, defaults and validation are those of :class:`clr.CyclicPolicy`
    (``scale_mode=None`` means the mode's own; a contradicting value raises).

    Attributes:
        history: per applied update, ``"lr"`` (the rate it trained with), ``"iterations"`` (the
            optimizer's count before it, so ``plot(history["iterations"], history["lr"])`` is
            exact) and every metric Keras logged for that batch. Keras logs running means since
            the start of the epoch, not the loss of that batch.
        clr_iterations: the position in the current cycle schedule (0 after ``reset``).
        trn_iterations: the optimizer's count of applied updates, as last seen.
        batches_without_update: batches that applied no update (accumulating gradients, or a
            step skipped for a float16 overflow).

    Raises:
        TypeError: at ``fit`` if the optimizer was built with a ``LearningRateSchedule``
            (use :class:`CyclicalLearningRate` instead of both).

    Warns:
        UserWarning: at ``fit`` when ``steps_per_execution > 1`` (Keras then calls the callback
            once per execution, so each rate is held for several steps), and when Keras'
            ``ReduceLROnPlateau`` or ``LearningRateScheduler`` (or anything else) sets the rate
            too: CyclicLR overwrites it at the next batch.
    """

    def __init__(self, *arguments: Any, **keywords: Any) -> None:
        super().__init__()
        self.policy = checked_for_keras(CyclicPolicy(*arguments, **keywords))
        self.history: dict[str, list[float]] = {}
        self.batches_without_update = 0
        self._cycle_start: int | None = 0  # the optimizer's count where the cycle began
        self._updates = 0  # the optimizer's count, as last seen
        self._synced = False  # read the count at the first batch of each fit
        self._lr: float | None = None
        self._epoch = 0
        self._warned_other: set[str] = set()

    # The original callback exposes these as attributes; here they read from the (validated) policy.
    base_lr = property(lambda self: self.policy.base_lr)
    max_lr = property(lambda self: self.policy.max_lr)
    step_size = property(lambda self: self.policy.step_size)

    @property
    def trn_iterations(self) -> int:
        return self._updates

    @property
    def clr_iterations(self) -> int:
        return self._updates - (self._updates if self._cycle_start is None else self._cycle_start)

    def clr(self) -> float:
        """The learning rate for the next update."""
        return self.policy(self.clr_iterations)

    def reset(
        self,
        new_base_lr: float | None = None,
        new_max_lr: float | None = None,
        new_step_size: float | None = None,
    ) -> None:
        """Start a new cycle at ``base_lr`` with the next update, optionally with new bounds or
        step size.

        An argument left ``None`` keeps its current value; ``reset()`` restarts the same
        cycle. The amplitude scaling (``triangular2``'s halving, ``exp_range``'s decay)
        restarts too. ``history`` and ``trn_iterations`` are kept.
        """
        changes = {"base_lr": new_base_lr, "max_lr": new_max_lr, "step_size": new_step_size}
        self.policy = checked_for_keras(
            self.policy.replace(**{k: v for k, v in changes.items() if v is not None})
        )
        # Outside fit the optimizer's count is read at the next batch, where the cycle begins.
        self._cycle_start = self._updates if self._synced else None

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
        """Continue from :meth:`get_state`'s dict: when the optimizer's count is
        ``trn_iterations``, the cycle is at ``clr_iterations``. Every key is checked (its type
        and range) before anything changes; a wrong one raises naming it."""
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
        if counters["clr_iterations"] > counters["trn_iterations"]:
            raise ValueError(
                "`state['clr_iterations']` (the cycle's position) cannot exceed "
                "`state['trn_iterations']` (the updates since training began). Received: "
                f"{counters['clr_iterations']} > {counters['trn_iterations']}"
            )
        policy = checked_for_keras(
            self.policy.replace(
                base_lr=state["base_lr"], max_lr=state["max_lr"], step_size=state["step_size"]
            )
        )
        self.policy = policy
        self._updates = counters["trn_iterations"]
        self._cycle_start = counters["trn_iterations"] - counters["clr_iterations"]

    # -- Keras hooks ---------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        if learning_rate_schedule(optimizer) is not None:
            raise TypeError(
                "CyclicLR sets the optimizer's learning rate every batch, so the optimizer must be "
                "built with a float `learning_rate`; this one was built with "
                f"{type(learning_rate_schedule(optimizer)).__name__}. To use a schedule "
                "instead, pass clr.keras.CyclicalLearningRate(...) as the optimizer's "
                "learning_rate and drop this callback."
            )
        steps = int(getattr(self.model, "steps_per_execution", 1) or 1)
        if steps > 1:
            warnings.warn(
                f"steps_per_execution={steps}: Keras calls callbacks once per {steps} steps, so "
                f"CyclicLR holds each learning rate for {steps} steps. For a rate that changes "
                "every step, use clr.keras.CyclicalLearningRate as the optimizer's learning_rate.",
                UserWarning,
                stacklevel=2,
            )
        for other in _sibling_callbacks(self):
            name = type(other).__name__
            if name in _RATE_SETTERS and name not in self._warned_other:
                self._warned_other.add(name)
                warnings.warn(
                    f"CyclicLR and {name} both set the learning rate: CyclicLR sets it before "
                    f"every batch, so {name}'s change lasts until the next batch and is lost. "
                    "Use one of them (to shrink the cycle over time, use mode='triangular2' or "
                    "'exp_range').",
                    UserWarning,
                    stacklevel=2,
                )
        self._synced = False  # BackupAndRestore may restore the optimizer after this hook

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        if self._synced and self._lr is not None:
            now = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            if abs(now - self._lr) > 1e-6 * max(abs(self._lr), 1e-12) and "other" not in (
                self._warned_other
            ):
                self._warned_other.add("other")
                warnings.warn(
                    f"Something other than CyclicLR set the learning rate to {now:.6g} (CyclicLR "
                    f"had set {self._lr:.6g}); CyclicLR overwrites it at the next batch.",
                    UserWarning,
                    stacklevel=2,
                )

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if not self._synced:
            self._sync()
        self._lr = self.clr()
        self.model.optimizer.learning_rate = self._lr

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        before, self._updates = self._updates, count(self._updates_counter())
        if self._updates <= before:  # accumulating, or a skipped (float16 overflow) step
            self.batches_without_update += 1
            return
        history = self.history
        history.setdefault("lr", []).append(self._lr)
        history.setdefault("iterations", []).append(before)
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(value)

    def _updates_counter(self) -> Any:
        """The variable that counts applied updates. A wrapper (``LossScaleOptimizer``) counts
        them in its inner optimizer: before Keras 3.3 the wrapper's own ``iterations`` stayed at
        0, so the cycle never moved."""
        optimizer = self.model.optimizer
        return getattr(optimizer, "inner_optimizer", optimizer).iterations

    def _sync(self) -> None:
        """The optimizer's count at the first batch of a ``fit``: the cycle follows it."""
        updates = count(self._updates_counter())
        if self._cycle_start is None:  # reset() before this fit: the cycle begins here
            self._cycle_start = updates
        elif updates < self._cycle_start:
            warnings.warn(
                f"CyclicLR: the optimizer has taken {updates} updates, fewer than the "
                f"{self._cycle_start} at which this cycle began (a new optimizer, or an earlier "
                "state restored): the cycle starts again at base_lr.",
                UserWarning,
                stacklevel=3,
            )
            self._cycle_start = updates
        elif updates == 0 and self._epoch > 0 and not self.history:
            warnings.warn(
                f"CyclicLR: fit starts at epoch {self._epoch} but the optimizer has taken no "
                "update (its state was not restored, e.g. weights-only): the cycle starts at "
                "base_lr. Restore the optimizer (load_model, BackupAndRestore) to continue it.",
                UserWarning,
                stacklevel=3,
            )
        self._updates = updates
        self._synced = True


def _sibling_callbacks(callback: keras.callbacks.Callback) -> list[Any]:
    """The other callbacks of the ``fit`` now starting: Keras' CallbackList, found as the
    caller of ``on_train_begin`` (callbacks are not told of each other); [] if not found."""
    frame = sys._getframe(1)
    for _ in range(4):
        if frame is None:
            break
        owner = frame.f_locals.get("self")
        callbacks = getattr(owner, "callbacks", None)
        if isinstance(callbacks, list) and any(c is callback for c in callbacks):
            return [c for c in callbacks if c is not callback]
        frame = frame.f_back
    return []


# help(CyclicLR) and editors show the policy's arguments: CyclicPolicy is their one home.
CyclicLR.__signature__ = inspect.Signature(
    list(inspect.signature(CyclicPolicy).parameters.values())
)  # type: ignore[attr-defined]
