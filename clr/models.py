"""The paper's CIFAR-10 network: Caffe's ``cifar10_full``, layer for layer, in Keras 3.

Importing this module imports Keras.

Where Keras cannot match Caffe exactly:

* Caffe trains biases of conv1, conv2 and ip1 with twice the learning rate (``lr_mult: 2``).
  Keras optimizers have one rate for all variables; here every bias trains at 1x.
* Caffe's L2 weight decay adds ``weight_decay * w`` to the gradient; Keras' ``L2(l)`` adds
  ``l * sum(w**2)`` to the loss, whose gradient is ``2 * l * w``. So ``L2(0.002)`` gives
  Caffe's 0.004, and ``L2(0.5)`` on ip1's weights gives its ``decay_mult: 250``.
* Caffe's average pooling (and the average inside its within-channel LRN) divides border
  windows by a count that includes the zero padding; Keras' ``padding="same"`` divides by
  the valid pixels only. The difference is confined to the border pixels.
"""

from __future__ import annotations

import keras
from keras import layers, ops

__all__ = ["WithinChannelLRN", "cifar10_full", "CAFFE_WEIGHT_DECAY"]

CAFFE_WEIGHT_DECAY = 0.004  # cifar10_full_solver.prototxt


@keras.saving.register_keras_serializable(package="clr")
class WithinChannelLRN(layers.Layer):
    """Caffe's LRN with ``norm_region: WITHIN_CHANNEL``.

    ``y = x / (1 + alpha * mean_{n x n}(x**2))**beta``, the mean taken over an ``n x n``
    spatial window of the same channel (Caffe divides ``alpha`` by ``n**2`` and sums;
    that is this mean).
    """

    def __init__(self, local_size: int = 3, alpha: float = 5e-5, beta: float = 0.75, **kwargs):
        super().__init__(**kwargs)
        self.local_size = local_size
        self.alpha = alpha
        self.beta = beta
        self._pool = layers.AveragePooling2D(pool_size=local_size, strides=1, padding="same")

    def call(self, x):
        # (1 + a*m)**-beta written as exp(-beta*log1p(a*m)): the same value, and about 10%
        # faster per training step on CPU than ops.power, whose gradient also works out the
        # (unused) derivative with respect to the exponent.
        return x * ops.exp(-self.beta * ops.log1p(self.alpha * self._pool(ops.square(x))))

    def get_config(self):
        return {**super().get_config(), "local_size": self.local_size, "alpha": self.alpha, "beta": self.beta}


def cifar10_full(weight_decay: float = CAFFE_WEIGHT_DECAY, seed: int | None = None) -> keras.Model:
    """Caffe ``examples/cifar10/cifar10_full_train_test.prototxt`` as a Keras model.

    Input: 32x32x3 images as raw 0-255 pixel values minus the per-pixel mean image (the
    weight initialisations and the paper's 0.001-0.006 rates assume that scale). Output:
    10 logits (train with ``SparseCategoricalCrossentropy(from_logits=True)``).

    ====  =======  ====================================================  ===========
    #     layer    settings                                              output
    ====  =======  ====================================================  ===========
    1     conv1    32 5x5, pad 2, weights N(0, 1e-4)                     32x32x32
    2     pool1    max 3x3 stride 2 (Caffe ceil rounding: "same")        16x16x32
    3     relu1
    4     norm1    LRN within channel, n 3, alpha 5e-5, beta 0.75
    5     conv2    32 5x5, pad 2, weights N(0, 0.01), relu               16x16x32
    6     pool2    average 3x3 stride 2                                  8x8x32
    7     norm2    as norm1
    8     conv3    64 5x5, pad 2, weights N(0, 0.01), relu               8x8x64
    9     pool3    average 3x3 stride 2                                  4x4x64
    10    ip1      dense 10 on 1024 inputs, weights N(0, 0.01)           10
    ====  =======  ====================================================  ===========

    Biases start at 0. L2 weight decay ``weight_decay`` on every weight (x250 on ip1's),
    none on biases; see the module docstring for what differs from Caffe.

    Args:
        weight_decay: Caffe's ``weight_decay`` (0.004 in the paper); 0 turns it off.
        seed: seed for the weight initialisers, for reproducible runs.
    """
    if not (weight_decay >= 0):
        raise ValueError(f"`weight_decay` must be >= 0. Received: weight_decay={weight_decay!r}")

    def init(std: float, k: int) -> keras.initializers.Initializer:
        return keras.initializers.RandomNormal(0.0, std, seed=None if seed is None else seed + k)

    def l2(mult: float = 1.0):
        # Caffe's decay d adds d*w to the gradient; Keras' L2(l) adds 2*l*w.
        return keras.regularizers.L2(weight_decay * mult / 2.0) if weight_decay else None

    def conv(filters: int, std: float, k: int, name: str) -> layers.Conv2D:
        return layers.Conv2D(filters, 5, padding="same", kernel_initializer=init(std, k), kernel_regularizer=l2(), name=name)

    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            conv(32, 1e-4, 1, "conv1"),
            layers.MaxPooling2D(3, strides=2, padding="same", name="pool1"),
            layers.ReLU(name="relu1"),
            WithinChannelLRN(name="norm1"),
            conv(32, 0.01, 2, "conv2"),
            layers.ReLU(name="relu2"),
            layers.AveragePooling2D(3, strides=2, padding="same", name="pool2"),
            WithinChannelLRN(name="norm2"),
            conv(64, 0.01, 3, "conv3"),
            layers.ReLU(name="relu3"),
            layers.AveragePooling2D(3, strides=2, padding="same", name="pool3"),
            layers.Flatten(name="flatten"),
            layers.Dense(10, kernel_initializer=init(0.01, 4), kernel_regularizer=l2(250.0), name="ip1"),
        ],
        name="cifar10_full",
    )
