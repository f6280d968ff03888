"""clr.keras: schedule/numpy parity, saving and resuming, the callback's contract."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import clr  # noqa: E402
from clr.keras import CyclicalLearningRate, CyclicLR  # noqa: E402


class LRRecorder(keras.callbacks.Callback):
    """The rate the optimizer will use for each batch, read at batch begin."""

    def __init__(self):
        super().__init__()
        self.lrs = []

    def on_train_batch_begin(self, batch, logs=None):
        self.lrs.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def make_model(learning_rate, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9), "mse")
    return model


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


# -- the schedule ---------------------------------------------------------------------------


def random_policies(n, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        base_lr = float(10 ** rng.uniform(-5, -1))
        kw = dict(
            base_lr=base_lr,
            max_lr=base_lr * float(rng.uniform(1, 20)),
            step_size=float(rng.choice([1, 7, 2000, rng.uniform(1, 5000)])),
        )
        kind = rng.integers(0, 7)
        if kind == 1:
            kw["mode"] = "triangular2"
        elif kind == 2:
            kw.update(mode="exp_range", gamma=float(rng.uniform(0.999, 1.0)))
        elif kind == 3:
            kw.update(scale_fn=clr.SineScale())
        elif kind == 4:
            kw.update(
                scale_fn=clr.ExpScale(float(rng.uniform(0.9999, 1.0))), scale_mode="iterations"
            )
        elif kind == 5:
            kw.update(step_size_down=float(rng.uniform(1, 5000)))
        elif kind == 6:  # the paper's exp_range: the whole band decays
            kw.update(mode="exp_range_bounds", gamma=float(rng.uniform(0.999, 1.0)))
        yield kw


@pytest.mark.parametrize(
    "kwargs",
    list(random_policies(48)),
    ids=lambda kw: (
        ",".join(f"{k}={v}" for k, v in kw.items() if k in ("mode", "scale_fn", "step_size_down"))
        or "triangular"
    ),
)
def test_schedule_matches_numpy(kwargs):
    steps = np.unique(np.concatenate([np.arange(0, 5000), np.linspace(0, 100_000, 2001).round()]))
    want = clr.cyclic_lr(steps, **kwargs)
    got = keras.ops.convert_to_numpy(CyclicalLearningRate(**kwargs)(steps))
    assert got.dtype == np.float32
    # float32: a few ulps of max_lr, plus, for a period float32 cannot hold exactly, the
    # position error that grows with the iteration count (zero for integer step sizes).
    up, down = kwargs["step_size"], kwargs.get("step_size_down") or kwargs["step_size"]
    drift = (
        0.0
        if float(up + down).is_integer()
        else 8 * np.finfo(np.float32).eps * steps / min(up, down)
    )
    atol = 2e-6 * kwargs["max_lr"] + (kwargs["max_lr"] - kwargs["base_lr"]) * drift
    assert np.all(np.abs(got - want) <= atol + 2e-6 * np.abs(want))


def test_schedule_accepts_int64_step_and_refuses_bad_input():
    step = keras.ops.convert_to_tensor(2000, dtype="int64")
    assert float(CyclicalLearningRate()(step)) == pytest.approx(0.006)
    with pytest.raises(ValueError, match=r"`max_lr` must be >= `base_lr`"):
        CyclicalLearningRate(base_lr=0.01, max_lr=0.001)
    with pytest.raises(
        ValueError, match=r"`scale_mode` must be None or 'iterations' for mode='exp_range'"
    ):
        CyclicalLearningRate(mode="exp_range", gamma=0.99, scale_mode="cycle")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mode="triangular2", step_size=3),
        dict(mode="exp_range", gamma=0.9, step_size=2.5, step_size_down=4),
        dict(mode="exp_range_bounds", gamma=0.99, step_size=3),
        dict(scale_fn=clr.SineScale(), step_size=2, name="sine"),
        dict(scale_fn=clr.ExpScale(0.95), scale_mode="iterations", step_size=2),
    ],
)
def test_get_config_round_trip(kwargs):
    schedule = CyclicalLearningRate(**kwargs)
    config = schedule.get_config()
    assert set(config) == {
        "base_lr",
        "max_lr",
        "step_size",
        "mode",
        "gamma",
        "scale_fn",
        "scale_mode",
        "step_size_down",
        "name",
    }
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(again, CyclicalLearningRate) and again.policy == schedule.policy
    assert again.get_config() == config


def test_saved_model_resumes_the_cycle(tmp_path):
    """Train 3 epochs, save, load, train 3 more: same lr trace and weights as 6 epochs straight."""
    x, y = data()

    def schedule():
        return CyclicalLearningRate(
            base_lr=0.001, max_lr=0.01, step_size=3, scale_fn=clr.SineScale()
        )

    straight, rec = make_model(schedule()), LRRecorder()
    straight.fit(x, y, batch_size=16, epochs=6, shuffle=False, verbose=0, callbacks=[rec])

    first, rec1 = make_model(schedule()), LRRecorder()
    first.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[rec1])
    first.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.optimizer._learning_rate, CyclicalLearningRate)
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 12
    rec2 = LRRecorder()
    loaded.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[rec2])

    assert len(rec.lrs) == 24
    np.testing.assert_allclose(rec1.lrs + rec2.lrs, rec.lrs, rtol=1e-6)
    np.testing.assert_allclose(
        rec.lrs, clr.cyclic_lr(np.arange(24), 0.001, 0.01, 3, scale_fn=clr.SineScale()), rtol=1e-6
    )
    for a, b in zip(loaded.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -- the callback ---------------------------------------------------------------------------


def test_callback_history_and_base_lr_override():
    x, y = data()
    model = make_model(0.5)  # CyclicLR's base_lr overrides this
    cb, rec = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=5, mode="triangular2"), LRRecorder()
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[cb, rec])
    h = cb.history
    assert h["iterations"] == list(range(24))
    np.testing.assert_allclose(
        h["lr"], clr.cyclic_lr(np.arange(24), 0.001, 0.006, 5, mode="triangular2")
    )
    np.testing.assert_allclose(rec.lrs, h["lr"], rtol=1e-6)  # what the optimizer really used
    assert len(h["loss"]) == 24 and all(np.isfinite(h["loss"]))
    assert cb.trn_iterations == cb.clr_iterations == 24


def test_callback_continues_across_fit_calls_and_resets():
    x, y = data()
    model = make_model(0.1)
    cb = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=4, mode="exp_range", gamma=0.9)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])  # continues
    np.testing.assert_allclose(
        cb.history["lr"], clr.cyclic_lr(np.arange(16), 0.001, 0.006, 4, mode="exp_range", gamma=0.9)
    )

    cb.reset(new_base_lr=0.0001, new_max_lr=0.0005)
    assert cb.clr_iterations == 0 and cb.trn_iterations == 16
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    assert cb.history["iterations"] == list(range(24))
    # The new cycle starts at the new base and its exp_range decay restarts.
    np.testing.assert_allclose(
        cb.history["lr"][16:],
        clr.cyclic_lr(np.arange(8), 0.0001, 0.0005, 4, mode="exp_range", gamma=0.9),
    )

    cb._reset(new_step_size=2)  # the original callback's name
    assert (cb.base_lr, cb.max_lr, cb.step_size) == (0.0001, 0.0005, 2.0)
    with pytest.raises(ValueError, match=r"`max_lr` must be >= `base_lr`"):
        cb.reset(new_max_lr=0.00001)


def test_callback_state_moves_to_a_new_callback():
    x, y = data()
    model = make_model(0.1)
    cb = CyclicLR(step_size=3)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    cb2 = CyclicLR(step_size=3)
    cb2.set_state(cb.get_state())
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb2])
    np.testing.assert_allclose(cb2.history["lr"], clr.cyclic_lr(np.arange(8, 16), step_size=3))


def test_callback_refuses_an_optimizer_with_a_schedule():
    x, y = data()
    model = make_model(CyclicalLearningRate())
    with pytest.raises(
        TypeError, match=r"must be built with a float `learning_rate`.*CyclicalLearningRate"
    ):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[CyclicLR()])


def test_callback_warns_about_steps_per_execution():
    x, y = data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse", steps_per_execution=4)
    cb = CyclicLR(step_size=4)
    if keras.backend.backend() == "torch":
        # Keras' torch backend runs one step per call: it refuses the setting itself, clearly.
        with pytest.raises(ValueError, match=r"`steps_per_execution` must be 1 with the PyTorch"):
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
        return
    with pytest.warns(UserWarning, match=r"steps_per_execution=4.*CyclicalLearningRate"):
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    assert cb.trn_iterations == 8  # counts optimizer steps, not callback calls


def test_callback_validates_its_arguments():
    with pytest.raises(ValueError, match=r"`step_size` must be a finite number > 0"):
        CyclicLR(step_size=0)
    with pytest.raises(
        ValueError, match=r"`scale_mode` must be None or 'cycle' for mode='triangular'"
    ):
        CyclicLR(scale_mode="iterations")
