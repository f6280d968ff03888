"""cifar10_full: Caffe's layer shapes, parameter count, regularisation, bias rates and LRN."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import clr  # noqa: E402
import clr.keras as ck  # noqa: E402
from clr.cifar10.models import WithinChannelLRN, caffe_lr_multipliers, cifar10_full  # noqa: E402


def test_layer_shapes_match_caffe():
    model = cifar10_full(seed=0)
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv1"] == (32, 32, 32)
    assert shapes["pool1"] == (16, 16, 32)  # Caffe's ceil rounding: 32 -> 16 -> 8 -> 4
    assert shapes["pool2"] == (8, 8, 32)
    assert shapes["conv3"] == (8, 8, 64)
    assert shapes["pool3"] == (4, 4, 64)
    assert shapes["flatten"] == (1024,)
    assert shapes["ip1"] == (10,)
    assert model.count_params() == 89_578


def test_initialisation_and_weight_decay():
    model = cifar10_full(seed=0)
    stds = {
        name: float(np.std(model.get_layer(name).kernel))
        for name in ("conv1", "conv2", "conv3", "ip1")
    }
    assert stds["conv1"] == pytest.approx(1e-4, rel=0.1)
    for name in ("conv2", "conv3", "ip1"):
        assert stds[name] == pytest.approx(1e-2, rel=0.1)
    assert all(
        not np.any(layer.bias)
        for layer in model.layers
        if hasattr(layer, "bias") and layer.bias is not None
    )
    # Caffe decay 0.004 (x250 on ip1) as Keras L2 on the loss: l = decay * mult / 2.
    assert model.get_layer("conv1").kernel_regularizer.l2 == pytest.approx(0.002)
    assert model.get_layer("ip1").kernel_regularizer.l2 == pytest.approx(0.5)
    # Caffe's decay_mult defaults to 1: conv1-conv3's biases are decayed; ip1's has decay_mult 0.
    assert [
        model.get_layer(n).bias_regularizer.l2 for n in ("conv1", "conv2", "conv3")
    ] == pytest.approx([0.002] * 3)
    assert model.get_layer("ip1").bias_regularizer is None
    assert cifar10_full(weight_decay=0).get_layer("ip1").kernel_regularizer is None


def test_within_channel_lrn_formula():
    x = np.random.default_rng(0).normal(scale=50, size=(1, 5, 5, 2)).astype("float32")
    y = keras.ops.convert_to_numpy(WithinChannelLRN(local_size=3, alpha=5e-5, beta=0.75)(x))
    # Centre pixel: its full 3x3 window, same channel only.
    window = x[0, 1:4, 1:4, 0]
    want = x[0, 2, 2, 0] / (1 + 5e-5 * np.mean(window**2)) ** 0.75
    assert y[0, 2, 2, 0] == pytest.approx(want, rel=1e-5)
    # Corner pixel: Caffe's padded average divides its 2x2 valid window by 9, not by 4.
    corner = x[0, 0:2, 0:2, 1]
    want = x[0, 0, 0, 1] / (1 + 5e-5 * np.sum(corner**2) / 9) ** 0.75
    assert y[0, 0, 0, 1] == pytest.approx(want, rel=1e-5)
    assert y[0, 0, 0, 1] != pytest.approx(
        x[0, 0, 0, 1] / (1 + 5e-5 * np.mean(corner**2)) ** 0.75, rel=1e-5
    )


def data_gradients(model, loss_fn, x, y, variables):
    """Gradients of the data loss alone (no regularisation) on the active backend."""
    if keras.backend.backend() == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        others = [v.value for v in model.non_trainable_variables]

        def loss(trainable):
            logits, _ = model.stateless_call(trainable, others, x, training=True)
            return loss_fn(y, logits)

        grads = jax.grad(loss)(trainable)
        index = [
            next(i for i, v in enumerate(model.trainable_variables) if v is w) for w in variables
        ]
        return [np.asarray(grads[i]) for i in index]
    if keras.backend.backend() == "torch":
        import torch

        data_loss = loss_fn(torch.as_tensor(y), model(torch.as_tensor(x), training=True))
        grads = torch.autograd.grad(data_loss, [v.value for v in variables])
        return [g.detach().cpu().numpy() for g in grads]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        data_loss = loss_fn(y, model(x, training=True))
    return [t.numpy() for t in tape.gradient(data_loss, variables)]


def test_caffe_bias_rate_and_decay_match_a_hand_computed_sgd_step():
    """Two steps of Caffe's SGD by hand (v = m v + lr lr_mult (g + decay decay_mult w); w -= v)
    for conv1's bias (lr_mult 2, decayed) and ip1's weights (lr_mult 1, decay_mult 250)."""
    model = cifar10_full(seed=0)
    model.build((None, 32, 32, 3))
    model.get_layer("conv1").bias.assign(np.full(32, 0.1, "float32"))  # so that decay shows
    optimizer = ck.SGD(
        learning_rate=clr.Constant(0.01), momentum=0.9, lr_multipliers=caffe_lr_multipliers(model)
    )
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer, loss_fn)
    rng = np.random.default_rng(0)
    batches = [
        (rng.normal(0, 50, (8, 32, 32, 3)).astype("float32"), rng.integers(0, 10, 8))
        for _ in range(2)
    ]
    bias, kernel = model.get_layer("conv1").bias, model.get_layer("ip1").kernel
    w = {
        "b": keras.ops.convert_to_numpy(bias).astype(np.float64),
        "k": keras.ops.convert_to_numpy(kernel).astype(np.float64),
    }
    v = {"b": 0.0, "k": 0.0}
    for x, y in batches:
        g_b, g_k = data_gradients(model, loss_fn, x, y, [bias, kernel])  # Caffe adds decay to these
        v["b"] = 0.9 * v["b"] + 0.01 * 2 * (g_b + 0.004 * w["b"])
        v["k"] = 0.9 * v["k"] + 0.01 * 1 * (g_k + 0.004 * 250 * w["k"])
        w = {"b": w["b"] - v["b"], "k": w["k"] - v["k"]}
        model.train_on_batch(x, y)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(bias), w["b"], rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(kernel), w["k"], rtol=1e-5, atol=1e-9)
    # And the same without the multiplier differs by far more than that tolerance.
    assert np.abs(keras.ops.convert_to_numpy(bias) - (w["b"] + v["b"] / 2)).max() > 1e-6


def test_caffe_lr_multipliers_refuse_another_model():
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
    with pytest.raises(ValueError, match=r"no variable 'conv1/bias'; it is not cifar10_full"):
        caffe_lr_multipliers(other)


def test_model_saves_and_loads(tmp_path):
    model = cifar10_full(seed=1)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(scale=60, size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
