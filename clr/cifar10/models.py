"""The paper's CIFAR-10 network: Caffe's ``cifar10_full``, layer for layer, in Keras 3.

Importing this module imports Keras.

Every line of Caffe's ``examples/cifar10/cifar10_full_train_test.prototxt`` and of the three
``cifar10_full_solver*.prototxt`` (BVLC/caffe @9b89154) against this code:

==============================  ============================================  ===============
Caffe                           here                                          matches
==============================  ============================================  ===============
data: mean image (``mean.bi-    ``clr.cifar10.data.preprocess``: per-pixel    yes
naryproto``), raw 0-255 scale,  mean of the training set subtracted, float32,
batch 100 train and test        0-255 scale; batch 100 (runner)
data order: LMDB read in file   one seeded permutation, repeated every        as far as we
order every epoch, no shuffle   epoch (our copy is sorted by class, so        can (the
                                Caffe's own order cannot be used)             order differs)
conv1/2/3 5x5, pad 2, stride 1  ``Conv2D(5, padding="same")``                 yes
weight fillers gaussian 1e-4    ``RandomNormal(0, std)``, biases 0            yes (other
(conv1), 0.01 (others), bias                                                  random draws)
constant 0
pool1 MAX 3x3 s2, pool2/3 AVE   ``padding="same"``: TF pads 0 before, 1       yes, exactly:
3x3 s2, pad 0, ceil rounding    after, giving 32-16-8-4 and averaging the     a numpy port of
                                last window over its valid pixels as Caffe    Caffe's pooling
                                does                                          differs by 0
norm1/2 LRN WITHIN_CHANNEL,     :class:`WithinChannelLRN`: the 3x3 window     yes
local_size 3, alpha 5e-5,       sum of squares of the zero-padded input
beta 0.75 (Caffe: padded AVE    divided by 9 everywhere, as Caffe's padded
pooling of x**2, /9 even at     average pooling does
the border)
ip1 10 outputs on 64x4x4        ``Dense(10)`` on the flattened 4x4x64         yes (flatten
                                                                              order differs,
                                                                              a permutation)
lr_mult 2 on conv1, conv2, ip1  :func:`caffe_lr_multipliers` for              yes, exactly
biases (conv3 has no ``param``  ``clr.keras.SGD(lr_multipliers=...)``, which  for SGD
block: 1x)                      multiplies those variables' learning rate
weight_decay 0.004 (L2),        ``L2(decay * decay_mult / 2)`` on the loss,   yes
decay_mult default 1, ip1       whose gradient is ``decay * decay_mult * w``
weights 250, ip1 bias 0         on every weight and on conv1-3's biases
SoftmaxWithLoss                 ``SparseCategoricalCrossentropy(from_logits)``  yes
momentum 0.9, base_lr 0.001,    ``SGD(momentum=0.9)``; the schedules of       yes
fixed, 60k/65k/70k drops        ``clr.cifar10.protocol``
test_iter 100 x batch 100,      the whole test set every 1,000 iterations     yes
test_interval 1000
GPU arithmetic (cuDNN)          TensorFlow on CPU, float32                    no (rounding)
==============================  ============================================  ===============

What cannot match: the data (our copy is JPEG-recompressed, see ``../shared/data``), its
order, the random draws, and floating-point rounding.
"""

from __future__ import annotations

import keras
from keras import layers, ops

__all__ = [
    "WithinChannelLRN",
    "cifar10_full",
    "caffe_lr_multipliers",
    "CAFFE_WEIGHT_DECAY",
    "CAFFE_LR_MULT",
]

CAFFE_WEIGHT_DECAY = 0.004  # cifar10_full_solver.prototxt
# lr_mult of the biases in cifar10_full_train_test.prototxt (conv3 has no param block: 1).
CAFFE_LR_MULT = {"conv1/bias": 2.0, "conv2/bias": 2.0, "ip1/bias": 2.0}


@keras.saving.register_keras_serializable(package="clr")
class WithinChannelLRN(layers.Layer):
    """Caffe's LRN with ``norm_region: WITHIN_CHANNEL``.

    ``y = x / (1 + alpha / n**2 * sum_{n x n}(x**2))**beta``, the sum taken over an ``n x n``
    spatial window of the same channel, zero-padded at the border and divided by ``n**2``
    everywhere, as Caffe's padded average pooling does.
    """

    def __init__(self, local_size: int = 3, alpha: float = 5e-5, beta: float = 0.75, **kwargs):
        super().__init__(**kwargs)
        if local_size % 2 != 1 or local_size < 1:
            raise ValueError(
                f"`local_size` must be an odd integer >= 1. Received: local_size={local_size!r}"
            )
        self.local_size = local_size
        self.alpha = alpha
        self.beta = beta
        # Average pooling over the zero-padded squares: every window counts n*n pixels.
        self._pool = layers.AveragePooling2D(pool_size=local_size, strides=1, padding="valid")

    def call(self, x):
        pad = self.local_size // 2
        squares = ops.pad(ops.square(x), [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        # (1 + a*m)**-beta written as exp(-beta*log1p(a*m)): the same value, and about 10%
        # faster per training step on CPU than ops.power, whose gradient also works out the
        # (unused) derivative with respect to the exponent.
        return x * ops.exp(-self.beta * ops.log1p(self.alpha * self._pool(squares)))

    def get_config(self):
        return {
            **super().get_config(),
            "local_size": self.local_size,
            "alpha": self.alpha,
            "beta": self.beta,
        }


def caffe_lr_multipliers(model: keras.Model | None = None) -> dict[str, float]:
    """Caffe's per-variable learning-rate multipliers of ``cifar10_full`` (``lr_mult: 2`` on the
    biases of conv1, conv2 and ip1), keyed by ``layer/variable`` for
    ``clr.keras.SGD(lr_multipliers=...)``. With ``model``, checks that each names a variable."""
    if model is not None:
        paths = [v.path for v in model.trainable_variables]
        for key in CAFFE_LR_MULT:
            if not any(p == key or p.endswith("/" + key) for p in paths):
                raise ValueError(
                    f"`model` has no variable {key!r}; it is not cifar10_full. Received: {paths}"
                )
    return dict(CAFFE_LR_MULT)


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

    Biases start at 0. L2 weight decay ``weight_decay`` on every weight (x250 on ip1's) and
    on the biases of conv1-conv3 (Caffe's ``decay_mult`` defaults to 1; ip1's bias has 0).
    Train with ``clr.keras.SGD(..., lr_multipliers=caffe_lr_multipliers())`` for Caffe's 2x
    bias rates; the module docstring lists every line of Caffe's set-up against this code.

    Args:
        weight_decay: Caffe's ``weight_decay`` (0.004 in the paper); 0 turns it off.
        seed: seed for the weight initialisers, for reproducible runs.
    """
    if not (weight_decay >= 0):  # also refuses NaN
        raise ValueError(f"`weight_decay` must be >= 0. Received: weight_decay={weight_decay!r}")

    def init(std: float, k: int) -> keras.initializers.Initializer:
        return keras.initializers.RandomNormal(0.0, std, seed=None if seed is None else seed + k)

    def l2(mult: float = 1.0):
        # Caffe's decay d adds d*w to the gradient; Keras' L2(l) adds 2*l*w.
        return keras.regularizers.L2(weight_decay * mult / 2.0) if weight_decay else None

    def conv(filters: int, std: float, k: int, name: str) -> layers.Conv2D:
        return layers.Conv2D(
            filters,
            5,
            padding="same",
            kernel_initializer=init(std, k),
            kernel_regularizer=l2(),
            bias_regularizer=l2(),
            name=name,
        )

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
            layers.Dense(
                10, kernel_initializer=init(0.01, 4), kernel_regularizer=l2(250.0), name="ip1"
            ),
        ],
        name="cifar10_full",
    )
