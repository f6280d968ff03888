"""Smith's LR range test, the sweep: :func:`lr_range_test` trains one update per rate while the
rate rises, on a compiled Keras model, and puts the model back. It imports Keras when it runs,
so ``import clr`` stays light. What it returns (:class:`RangeTestResult`, its suggestions, plot
and files) lives in :mod:`clr._range_result`, numpy only.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ._range_result import DebiasedAverage, RangeTestResult, Suggestion, Suggestions, smooth_losses

__all__ = [
    "RangeTestResult",
    "Suggestion",
    "Suggestions",
    "DebiasedAverage",
    "smooth_losses",
    "lr_range_test",
]


def _shapes(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_shapes(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shapes(v) for v in value) + "]"
    return str(tuple(getattr(value, "shape", ()))) if value is not None else "None"


def _one_line(err: BaseException) -> str:
    """Keras' message without its colour codes and blank lines, on one line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    return " ".join(line.strip() for line in text.splitlines() if line.strip())[:600]


def _inner(optimizer: Any) -> Any:
    """The optimizer that steps: a LossScaleOptimizer's inner one, or itself."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _start_a_whole_update(optimizer: Any, k: int) -> None:
    """Under gradient accumulation, start the sweep at the first batch of an update: no partial
    sum left from earlier training. (Everything is put back afterwards.)"""
    import keras

    micro = int(keras.ops.convert_to_numpy(optimizer._iterations))
    optimizer._iterations.assign(micro - micro % k)
    for accumulator in getattr(optimizer, "_accumulated_gradients", None) or []:
        if accumulator is not None:
            accumulator.assign(keras.ops.zeros(accumulator.shape, dtype=accumulator.dtype))


def lr_range_test(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    start_lr: float,
    end_lr: float,
    iterations: int | None = None,
    epochs: float | None = None,
    sweep: str = "linear",
    batch_size: int | None = None,
    sample_weight: Any = None,
    validation_data: Any = None,
    validation_steps: int | None = None,
    eval_every: int | None = None,
    smoothing: float = 0.98,
    stop_factor: float | None = 4.0,
    seed: int = 0,
    verbose: int = 1,
) -> RangeTestResult:
    """Smith's LR range test: train one batch per rate while the rate rises from ``start_lr``
    to ``end_lr``, recording the true loss of every batch; then put the model back.

    The paper's CIFAR-10 test is a ``"linear"`` sweep over 8 epochs with accuracy on held-out
    data (``validation_data``, every ``eval_every`` iterations); ``"exp"`` spaces the rates
    geometrically, as fastai does. Each batch's loss is that batch's own (the metrics are reset
    before every batch; Keras' batch-end logs hold a running mean since the epoch began, which
    shifts the curve right). The sweep stops early when the smoothed loss exceeds
    ``stop_factor`` times its best or is not finite, and the result says so.

    Under ``gradient_accumulation_steps=k`` one iteration is one update of ``k`` batches: each
    rate is applied for a whole update, and its loss (and accuracy) is the mean over that
    update's batches; ``iterations`` counts updates, ``epochs`` passes over ``x``.

    Afterwards the model's weights and the optimizer's variables (its step count, momentum,
    learning rate) are exactly what they were before, also when the sweep stopped early or was
    interrupted by an exception or KeyboardInterrupt. An optimizer not yet built is built first,
    so its fresh state is what comes back. (A generator's consumed batches cannot come back.)

    Args:
        model: a compiled Keras model whose optimizer has a float learning rate.
        x, y: what ``model.fit`` takes: in-memory arrays (each epoch's full batches in a new
            seeded order; a partial last batch is left out), or a pipeline that brings its own
            batches and targets (``y`` None): a ``tf.data.Dataset``, a
            ``keras.utils.PyDataset``, a PyTorch ``DataLoader`` (torch backend) or a generator
            of ``(x, y)``/``(x, y, sample_weight)``.
        start_lr, end_lr: the swept range, ``0 < start_lr < end_lr``.
        iterations, epochs: the length of the sweep; give one (``epochs`` counts passes over
            ``x``). At least 10 iterations. A finite pipeline must hold them (or pass
            ``epochs`` to read a Dataset/PyDataset/DataLoader several times); an infinite one
            needs ``iterations``.
        sweep: ``"linear"`` or ``"exp"``.
        batch_size: for arrays (default 32); None for a pipeline, which batches itself.
        sample_weight: per-example weights for arrays.
        validation_data: ``(x_val, y_val)`` arrays or a pipeline (read once, ``validation_steps``
            batches of an endless one), evaluated every ``eval_every`` iterations (default:
            about 40 evaluations over the sweep).
        smoothing: beta of the debiased moving average of the loss, in [0, 1).
        stop_factor: stop when the smoothed loss exceeds this times its best; None never stops.
        seed: seeds the order of the batches of arrays.

    Returns:
        A :class:`RangeTestResult`: ``.suggest()``, ``.plot()``, ``.save(path)``.
    """
    import keras

    from ._checks import check_choice, check_int, check_number
    from ._pipelines import training_batches, validation_arrays
    from .keras import learning_rate_schedule

    start_lr = check_number("start_lr", start_lr, low=0.0)
    end_lr = check_number("end_lr", end_lr, low=0.0)
    if end_lr <= start_lr:
        raise ValueError(
            f"`end_lr` must be > `start_lr` ({start_lr!r}). Received: end_lr={end_lr!r}"
        )
    sweep = check_choice("sweep", sweep, ("linear", "exp"))
    smoothing = check_number(
        "smoothing", smoothing, low=0.0, low_inclusive=True, high=1.0, high_inclusive=False
    )
    if stop_factor is not None:
        stop_factor = check_number("stop_factor", stop_factor, low=1.0)
    seed = check_int("seed", seed, low=0)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
            "`model` must be compiled (with an optimizer and a loss) before the range test."
        )
    if learning_rate_schedule(optimizer) is not None:
        raise TypeError(
            "lr_range_test sets the optimizer's learning rate each batch: compile the model with a "
            "float `learning_rate`, not a schedule."
        )
    # Under gradient accumulation an update is `k` batches: each rate is applied for a whole
    # update, and its loss is the mean over that update's batches.
    k = int(getattr(_inner(optimizer), "gradient_accumulation_steps", None) or 1)
    batches = training_batches(
        x, y, batch_size=batch_size, iterations=None if iterations is None else iterations * k,
        epochs=epochs, seed=seed, sample_weight=sample_weight,
    )  # fmt: skip
    iterations = len(batches) // k
    if iterations < 10:
        raise ValueError(
            f"The sweep needs at least 10 updates; {len(batches)} batches make {iterations} "
            f"with gradient_accumulation_steps={k}. Give more `iterations` or `epochs`."
        )
    eval_every = (
        max(1, iterations // 40)
        if eval_every is None
        else check_int("eval_every", eval_every, low=1)
    )
    validation = None
    if validation_data is not None:
        validation = validation_arrays(validation_data, validation_steps)

    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    weights = [keras.ops.convert_to_numpy(v) for v in model.weights]
    optimizer_state = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
    if k > 1:
        _start_a_whole_update(_inner(optimizer), k)

    t = np.arange(iterations) / max(iterations - 1, 1)
    lrs = (
        start_lr + (end_lr - start_lr) * t
        if sweep == "linear"
        else start_lr * (end_lr / start_lr) ** t
    )
    losses, accuracies, smooth = [], [], []
    val_it, val_loss, val_acc = [], [], []
    average, best, stop_reason = DebiasedAverage(smoothing), math.inf, None
    progress = keras.utils.Progbar(
        iterations, verbose=verbose, stateful_metrics=["lr", "smoothed_loss"]
    )
    batch_iterator = iter(batches)
    try:
        for i, lr in enumerate(lrs):
            optimizer.learning_rate = float(lr)
            update_losses, update_accuracies = [], []
            for j in range(k):
                bx, by, bw = next(batch_iterator)
                model.reset_metrics()  # so that the logs are this batch's, on every Keras version
                try:
                    logs = model.train_on_batch(bx, by, sample_weight=bw, return_dict=True)
                except (ValueError, TypeError) as err:
                    if i or j:
                        raise
                    # The model and the data disagree (shapes, input names): say so in one line.
                    raise ValueError(
                        f"The model cannot train on the first batch of `x` (x {_shapes(bx)}, y "
                        f"{_shapes(by)}): {_one_line(err)}"
                    ) from None
                update_losses.append(float(logs["loss"]))
                acc_key = next((key for key in logs if "acc" in key), None)
                if acc_key is not None:
                    update_accuracies.append(float(logs[acc_key]))
            loss = float(np.mean(update_losses))
            losses.append(loss)
            if update_accuracies:
                accuracies.append(float(np.mean(update_accuracies)))
            smoothed = average.update(loss)
            smooth.append(smoothed)
            if validation is not None and (i % eval_every == 0 or i == iterations - 1):
                vx, vy, vw = validation
                result = model.evaluate(
                    vx, vy, sample_weight=vw, batch_size=max(batches.batch_size or 0, 256),
                    verbose=0, return_dict=True,
                )  # fmt: skip
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
                stop_reason = (
                    f"the smoothed loss {smoothed:.3g} passed {stop_factor:g} x its best "
                    f"{best:.3g} at iteration {i}"
                )
                break
    finally:
        # Put everything back, whatever happened above (divergence, an exception, Ctrl-C).
        for variable, value in zip(model.weights, weights):
            variable.assign(value)
        for variable, value in zip(optimizer.variables, optimizer_state):
            variable.assign(value)
        model.reset_metrics()
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
        start_lr=start_lr,
        end_lr=end_lr,
        planned_iterations=iterations,
        stopped_early=stop_reason is not None,
        stop_reason=stop_reason,
    )
