"""The cifar10_full network: Caffe's layer shapes, parameter count and regularisation."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from clr.models import WithinChannelLRN, cifar10_full  # noqa: E402


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
    stds = {name: float(np.std(model.get_layer(name).kernel)) for name in ("conv1", "conv2", "conv3", "ip1")}
    assert stds["conv1"] == pytest.approx(1e-4, rel=0.1)
    for name in ("conv2", "conv3", "ip1"):
        assert stds[name] == pytest.approx(1e-2, rel=0.1)
    assert all(not np.any(layer.bias) for layer in model.layers if hasattr(layer, "bias") and layer.bias is not None)
    # Caffe decay 0.004 (x250 on ip1) as Keras L2 on the loss: l = decay * mult / 2.
    assert model.get_layer("conv1").kernel_regularizer.l2 == pytest.approx(0.002)
    assert model.get_layer("ip1").kernel_regularizer.l2 == pytest.approx(0.5)
    assert model.get_layer("conv1").bias_regularizer is None
    assert cifar10_full(weight_decay=0).get_layer("ip1").kernel_regularizer is None


def test_within_channel_lrn_formula():
    x = np.random.default_rng(0).normal(scale=50, size=(1, 5, 5, 2)).astype("float32")
    y = keras.ops.convert_to_numpy(WithinChannelLRN(local_size=3, alpha=5e-5, beta=0.75)(x))
    # Centre pixel: its full 3x3 window, same channel only.
    window = x[0, 1:4, 1:4, 0]
    want = x[0, 2, 2, 0] / (1 + 5e-5 * np.mean(window**2)) ** 0.75
    assert y[0, 2, 2, 0] == pytest.approx(want, rel=1e-5)


def test_model_saves_and_loads(tmp_path):
    model = cifar10_full(seed=1)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(scale=60, size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
