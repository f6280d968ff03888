"""The LR range test: true per-batch loss, exact restoration, early stop, suggestions, files."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import clr  # noqa: E402
import clr.keras  # noqa: E402
from clr import RangeTestResult  # noqa: E402
from clr.range_test import lr_range_test, smooth_losses  # noqa: E402


def data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, :2].sum(axis=1) > 0).astype("int32")
    return x, y


def model(seed=0, lr=0.05):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", kernel_regularizer="l2"),
            keras.layers.Dense(2),
        ]
    )
    m.compile(
        keras.optimizers.SGD(lr, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return m


def state(m):
    return [np.array(v) for v in m.weights], [np.array(v) for v in m.optimizer.variables]


def assert_same_state(a, b):
    for before, after in zip(a[0] + a[1], b[0] + b[1]):
        np.testing.assert_array_equal(before, after)  # bit for bit


def test_records_the_true_loss_of_each_batch_not_the_running_mean():
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0)  # a used optimizer: momentum and a step count to restore
    result = lr_range_test(
        m, x, y, start_lr=1e-3, end_lr=0.5, iterations=12, batch_size=16, verbose=0
    )
    # Replay by hand: evaluate each batch, then train on it, with the same rates and order.
    order = np.random.default_rng(0).permutation(len(x))
    for i, lr in enumerate(result.lr):
        idx = order[i * 16 : (i + 1) * 16]
        expected = m.evaluate(x[idx], y[idx], verbose=0, return_dict=True)
        assert result.loss[i] == pytest.approx(expected["loss"], rel=1e-5)
        assert result.accuracy[i] == pytest.approx(expected["accuracy"])
        m.optimizer.learning_rate = float(lr)
        m.train_on_batch(x[idx], y[idx])
    np.testing.assert_allclose(result.smoothed_loss, smooth_losses(result.loss, 0.98))
    np.testing.assert_allclose(result.lr, np.linspace(1e-3, 0.5, 12))


def test_restores_weights_and_optimizer_exactly():
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0)
    before = state(m)
    result = lr_range_test(
        m,
        x,
        y,
        start_lr=1e-4,
        end_lr=1.0,
        epochs=2,
        sweep="exp",
        batch_size=32,
        validation_data=(x[:64], y[:64]),
        eval_every=4,
        verbose=0,
    )
    assert_same_state(before, state(m))
    assert float(keras.ops.convert_to_numpy(m.optimizer.learning_rate)) == pytest.approx(0.05)
    assert len(result.lr) == 16 and result.val_iterations.tolist() == [0, 4, 8, 12, 15]
    np.testing.assert_allclose(result.lr, np.geomspace(1e-4, 1.0, 16), rtol=1e-9)


def test_unbuilt_optimizer_comes_back_fresh():
    x, y = data()
    m = model()
    lr_range_test(m, x, y, start_lr=1e-3, end_lr=0.1, iterations=10, verbose=0)
    assert int(keras.ops.convert_to_numpy(m.optimizer.iterations)) == 0
    assert all(not np.any(np.array(v)) for v in m.optimizer.variables if "momentum" in v.path)


def test_stops_early_on_divergence_and_still_restores():
    x, y = data()
    m = model()
    before = state(m)
    result = lr_range_test(
        m,
        x,
        y * 1,
        start_lr=1e-3,
        end_lr=1e6,
        iterations=200,
        sweep="exp",
        batch_size=16,
        verbose=0,
    )
    assert result.stopped_early and len(result.lr) < 200
    assert "passed 4 x its best" in result.stop_reason or "became" in result.stop_reason
    assert_same_state(before, state(m))
    assert any("stopped early" in w for w in result.suggest().warnings)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_restores_after_an_interruption(error):
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0)
    before = state(m)
    calls = {"n": 0}
    original = m.train_on_batch

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise error("stop")
        return original(*args, **kwargs)

    m.train_on_batch = interrupted
    with pytest.raises(error):
        lr_range_test(m, x, y, start_lr=1e-3, end_lr=1.0, iterations=20, verbose=0)
    assert_same_state(before, state(m))


def synthetic_result(lr, loss, accuracy=None, sweep="linear"):
    return RangeTestResult(
        lr,
        loss,
        smooth_losses(loss, 0.0),
        accuracy,
        np.array([], int),
        np.array([]),
        None,
        sweep,
        float(lr[0]),
        float(lr[-1]),
        len(lr),
    )


def test_suggestions_on_curves_with_known_answers():
    lr = np.linspace(0.0001, 0.02, 400)
    # Accuracy: flat at 10 %, rises linearly from lr 0.002 to 0.008, flat at 70 % after.
    acc = np.interp(lr, [0, 0.002, 0.008, 0.02], [0.1, 0.1, 0.7, 0.7])
    loss = np.interp(lr, [0, 0.002, 0.008, 0.014, 0.02], [2.3, 2.3, 1.0, 0.9, 3.0])
    s = synthetic_result(lr, loss, acc).suggest()
    assert s.base_lr == pytest.approx(0.002 + 0.1 * 0.006, abs=1e-4)  # 10 % into the rise
    assert s.max_lr == pytest.approx(0.002 + 0.9 * 0.006, abs=1e-4)  # 90 %: the rise slows
    by_name = {x.name: x.lr for x in s.loss_based}
    assert 0.002 < by_name["steep"] < 0.008  # on the steep part
    assert by_name["minimum/10"] == pytest.approx(0.014 / 10, rel=0.05)
    assert 0.002 < by_name["valley"] < 0.014
    assert not s.warnings
    assert [x.name for x in s] == ["base_lr", "max_lr", "valley", "steep", "minimum/10"]


def test_suggestions_say_when_not_to_trust_them():
    lr = np.linspace(0.001, 0.01, 15)
    assert any(
        "too short" in w for w in synthetic_result(lr, np.linspace(2, 1, 15)).suggest().warnings
    )
    lr = np.linspace(0.001, 0.01, 300)
    noisy = np.random.default_rng(0).normal(2.0, 1.0, 300)
    result = synthetic_result(lr, noisy)
    result.smoothed_loss = smooth_losses(noisy, 0.98)
    warnings = result.suggest().warnings
    assert any("too noisy" in w for w in warnings) and any("no accuracy" in w for w in warnings)


def test_save_load_and_plot(tmp_path):
    x, y = data()
    result = lr_range_test(
        model(),
        x,
        y,
        start_lr=1e-3,
        end_lr=5.0,
        iterations=60,
        sweep="exp",
        validation_data=(x, y),
        verbose=0,
    )
    result.save(tmp_path / "r.json")
    again = RangeTestResult.load(tmp_path / "r.json")
    np.testing.assert_array_equal(again.lr, result.lr)
    np.testing.assert_array_equal(again.loss, result.loss)
    assert again.val_iterations.tolist() == result.val_iterations.tolist() and again.sweep == "exp"
    matplotlib = pytest.importorskip("matplotlib")  # the plot is clr[notebooks]'s
    matplotlib.use("agg")
    ax = result.plot()
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("learning rate")
    labels = ax.get_legend().get_texts()
    assert any(t.get_text().startswith("valley = ") for t in labels)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(start_lr=0.1, end_lr=0.01, iterations=20), r"`end_lr` must be > `start_lr`"),
        (dict(start_lr=0.1, end_lr=0.1, iterations=20), r"`end_lr` must be > `start_lr`"),
        (dict(start_lr=0, end_lr=0.1, iterations=20), r"`start_lr` must be a finite number > 0"),
        (dict(start_lr=-1, end_lr=0.1, iterations=20), r"`start_lr`"),
        (
            dict(start_lr=1e-3, end_lr=0.1, iterations=5),
            r"`iterations` must be an integer in \[10, ",
        ),
        (dict(start_lr=1e-3, end_lr=0.1), r"exactly one of `iterations` and `epochs`"),
        (
            dict(start_lr=1e-3, end_lr=0.1, iterations=20, sweep="cosine"),
            r"`sweep` must be one of \('linear', 'exp'\)",
        ),
        (
            dict(start_lr=1e-3, end_lr=0.1, iterations=20, smoothing=1.0),
            r"`smoothing` must be a finite number in \[0, 1\)",
        ),
        (
            dict(start_lr=1e-3, end_lr=0.1, iterations=20, batch_size=0),
            r"`batch_size` must be an integer in \[1, 256\]",
        ),
    ],
)
def test_bad_arguments(kwargs, message):
    x, y = data()
    with pytest.raises(ValueError, match=message):
        lr_range_test(model(), x, y, verbose=0, **kwargs)


def test_refuses_a_schedule_optimizer():
    x, y = data()
    m = model()
    m.compile(keras.optimizers.SGD(clr.keras.CyclicalLearningRate()), "mse")
    with pytest.raises(TypeError, match=r"float `learning_rate`"):
        lr_range_test(m, x, y, start_lr=1e-3, end_lr=0.1, iterations=20, verbose=0)
