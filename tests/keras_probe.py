"""A probe of what an optimizer really applies, step by step, read from the weights alone.

The probe model is one Dense kernel of two weights, fed x = [1, 0] with the loss mean(y_pred),
so the first weight's gradient is 1 and the second's is 0. The second weight's velocity starts
at 1 (set in the optimizer's slot), so for SGD with momentum:

    v1_i = m_i * v1_(i-1)              ->  m_i  = dw1_i / dw1_(i-1)
    v0_i = m_i * v0_(i-1) - lr_i       ->  lr_i = m_i * dw0_(i-1) - dw0_i

(without momentum: lr_i = -dw0_i). A batch whose weights did not move applied no update.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import keras
import numpy as np
import pytest
from keras import ops

BATCH = 4


def supports(name: str) -> bool:
    """Whether this Keras optimizer takes ``name`` (``gradient_accumulation_steps`` came in 3.x)."""
    return name in inspect.signature(keras.optimizers.SGD.__init__).parameters


def needs(name: str) -> None:
    if not supports(name):
        pytest.skip(f"Keras {keras.__version__} has no `{name}`")


def data(batches: int, bad: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """``batches`` batches of x = [1, 0]; the batches in ``bad`` hold an infinite x (their
    gradient overflows, as float16 does)."""
    x = np.tile(np.array([[1.0, 0.0]], "float32"), (batches * BATCH, 1))
    for b in bad:
        x[b * BATCH : (b + 1) * BATCH, 0] = np.inf
    return x, np.zeros((len(x), 1), "float32")


def loss(y_true, y_pred):
    return ops.mean(y_pred)


def model(optimizer, **compile_kwargs) -> keras.Model:
    net = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    net.compile(optimizer, loss=loss, **compile_kwargs)
    return net


def kick(net: keras.Model) -> None:
    """Start the second weight's velocity at 1 (SGD with momentum), so momentum can be read."""
    optimizer = getattr(net.optimizer, "inner_optimizer", net.optimizer)
    optimizer.build(net.trainable_variables)
    if getattr(optimizer, "momentums", None):
        optimizer.momentums[0].assign(np.array([[0.0], [1.0]], "float32"))


@dataclass
class Recorder(keras.callbacks.Callback):
    """The kernel after every batch (and before the first)."""

    weights: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def on_train_begin(self, logs=None):
        if not self.weights:
            self.weights.append(self.model.get_weights()[0].ravel().copy())

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights()[0].ravel().copy())


def applied(weights: list[np.ndarray], momentum: bool = True) -> dict[str, np.ndarray]:
    """Per applied update: the rate, and the momentum (when the velocity was kicked); batches
    whose weights did not move are left out (``skipped`` counts them)."""
    w = np.array(weights, dtype=np.float64)
    steps = np.diff(w, axis=0)
    moved = np.any(steps != 0, axis=1)
    dw = steps[moved]
    out = {"skipped": int((~moved).sum())}
    if momentum:
        m = dw[:, 1] / np.concatenate([[1.0], dw[:-1, 1]])
        previous = np.concatenate([[0.0], dw[:-1, 0]])
        out["momentum"] = m
        out["lr"] = m * previous - dw[:, 0]
    else:
        out["lr"] = -dw[:, 0]
    return out


def fit(net: keras.Model, x, y, recorder: Recorder | None = None, callbacks=(), **kwargs):
    recorder = recorder or Recorder()
    net.fit(x, y, batch_size=BATCH, shuffle=False, verbose=0,
            callbacks=[*callbacks, recorder], **kwargs)  # fmt: skip
    return recorder
