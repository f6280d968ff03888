"""1cycle and cyclical momentum: the numpy policies by hand and against PyTorch, and momentum
schedules that really act inside compiled Keras steps (SGD, Nesterov, Adam), saved and resumed."""

import math

import numpy as np
import pytest

import clr

# -- numpy policies ------------------------------------------------------------------------


def test_one_cycle_two_phases_by_hand():
    # max_lr 1, total 100, pct 0.3: up ends at 29, down at 99; start 1/25, end 1/25/1e4.
    lr = lambda i, **k: clr.one_cycle(i, max_lr=1.0, total_steps=100, **k)  # noqa: E731
    assert (
        lr(0) == pytest.approx(0.04)
        and lr(29) == pytest.approx(1.0)
        and lr(99) == pytest.approx(4e-6)
    )
    assert lr(14.5) == pytest.approx((0.04 + 1.0) / 2)  # cos: halfway in value at halfway in time
    assert lr(64) == pytest.approx(4e-6 + (1 - 4e-6) / 2 * (math.cos(math.pi * 35 / 70) + 1))
    assert lr(64, anneal_strategy="linear") == pytest.approx(1 + (4e-6 - 1) * 35 / 70)
    mom = lambda i: clr.one_cycle_momentum(i, total_steps=100)  # noqa: E731
    assert (mom(0), mom(29), mom(99)) == pytest.approx((0.95, 0.85, 0.95))


def test_one_cycle_three_phases_by_hand():
    # The papers' layout: up to 29, down to the start at 58, the tail to 99.
    lr = lambda i: clr.one_cycle(i, max_lr=1.0, total_steps=100, three_phase=True)  # noqa: E731
    assert (lr(0), lr(29), lr(58), lr(99)) == pytest.approx((0.04, 1.0, 0.04, 4e-6))
    assert lr(43.5) == pytest.approx(0.52)
    mom = lambda i: clr.one_cycle_momentum(i, total_steps=100, three_phase=True)  # noqa: E731
    assert (mom(0), mom(29), mom(58), mom(80), mom(99)) == pytest.approx(
        (0.95, 0.85, 0.95, 0.95, 0.95)
    )


def test_properties():
    it = np.arange(1000)
    for three_phase in (False, True):
        lr = clr.one_cycle(it, 0.1, 1000, three_phase=three_phase)
        mom = clr.one_cycle_momentum(it, 1000, three_phase=three_phase)
        assert (
            lr.max() == pytest.approx(0.1)
            and lr.argmax() == 299
            and lr[-1] == pytest.approx(0.1 / 25 / 1e4)
        )
        assert np.all(np.diff(lr[:300]) > 0) and np.all(
            (mom >= 0.85 - 1e-12) & (mom <= 0.95 + 1e-12)
        )
        # momentum moves opposite to the rate while the rate cycles
        assert np.all(np.sign(np.diff(mom[:300])) == -np.sign(np.diff(lr[:300])))
    rate = clr.cyclic_lr(it * 10, mode="triangular2")
    momentum = clr.cyclic_momentum(it * 10, mode="triangular2")
    # momentum is max where the rate is at base_lr, and the two mirror each other
    np.testing.assert_allclose((rate - 0.001) / 0.005, (0.9 - momentum) / 0.1, atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: clr.one_cycle(100, 0.1, 100), r"in \[0, total_steps\) = \[0, 100\)"),
        (lambda: clr.one_cycle(0, -0.1, 100), r"`max_lr` must be a finite number > 0"),
        (
            lambda: clr.one_cycle(0, 0.1, 100.0),
            r"`total_steps` must be an integer in \[2, 9007199254740992\]",
        ),
        (
            lambda: clr.one_cycle(0, 0.1, 100, pct_start=1.0),
            r"`pct_start` must be a finite number in \(0, 1\)",
        ),
        (
            lambda: clr.one_cycle(0, 0.1, 100, anneal_strategy="cosine"),
            r"`anneal_strategy` must be one of \('cos', 'linear'\)",
        ),
        (
            lambda: clr.one_cycle(0, 0.1, 100, three_phase="yes"),
            r"`three_phase` must be True or False",
        ),
        (lambda: clr.one_cycle(0, 0.1, 10, pct_start=0.05), r"leaves a phase of two phases empty"),
        (
            lambda: clr.one_cycle(0, 0.1, 10, pct_start=0.6, three_phase=True),
            r"leaves a phase of three phases empty",
        ),
        (
            lambda: clr.one_cycle_momentum(0, 100, base_momentum=0.95, max_momentum=0.85),
            r"`max_momentum` must be >= `base_momentum`",
        ),
        (
            lambda: clr.cyclic_momentum(0, max_momentum=1.5),
            r"`max_momentum` must be a finite number in \[0, 1\)",
        ),
        (lambda: clr.cyclic_momentum(0, step_size=0), r"`step_size` must be a finite number > 0"),
    ],
)
def test_bad_arguments_name_themselves(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for trial in range(24):
        total = int(rng.integers(20, 400))
        kwargs = dict(
            max_lr=float(rng.uniform(0.01, 1)),
            pct_start=float(rng.uniform(0.1, 0.45)),
            anneal_strategy=("cos", "linear")[trial % 2],
            div_factor=float(rng.uniform(5, 50)),
            final_div_factor=float(rng.uniform(10, 1e4)),
            three_phase=bool(trial % 4 >= 2),
        )
        momenta = dict(
            base_momentum=float(rng.uniform(0.7, 0.85)), max_momentum=float(rng.uniform(0.86, 0.99))
        )
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, total_steps=total, **kwargs, **momenta
        )
        lrs, moms = [], []
        for _ in range(total):
            lrs.append(optimizer.param_groups[0]["lr"])
            moms.append(optimizer.param_groups[0]["momentum"])
            optimizer.step()
            scheduler.step()
        it = np.arange(total)
        np.testing.assert_allclose(clr.one_cycle(it, total_steps=total, **kwargs), lrs, rtol=1e-6)
        ours = clr.one_cycle_momentum(
            it,
            total,
            pct_start=kwargs["pct_start"],
            anneal_strategy=kwargs["anneal_strategy"],
            three_phase=kwargs["three_phase"],
            **momenta,
        )
        np.testing.assert_allclose(ours, moms, rtol=1e-6)
    for mode, gamma in (("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.999)):
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.CyclicLR(
            optimizer,
            0.001,
            0.006,
            step_size_up=50,
            step_size_down=30,
            mode=mode,
            gamma=gamma,
            base_momentum=0.8,
            max_momentum=0.9,
        )
        moms = []
        for _ in range(500):
            moms.append(optimizer.param_groups[0]["momentum"])
            optimizer.step()
            scheduler.step()
        ours = clr.cyclic_momentum(
            np.arange(500), 0.8, 0.9, step_size=50, step_size_down=30, mode=mode, gamma=gamma
        )
        np.testing.assert_allclose(ours, moms, rtol=1e-9, atol=1e-12)


# -- Keras: momentum that acts inside the compiled step -----------------------------------------

keras = pytest.importorskip("keras")
import clr.keras as ck  # noqa: E402


def linear_model(seed=0):
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(
                1, kernel_initializer=keras.initializers.RandomNormal(seed=seed), name="dense"
            ),
        ]
    )
    return model


def data(steps=12, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32"))
        for _ in range(steps)
    ]


def hand_sgd(w, b, batches, lr, momentum, nesterov=False):
    """SGD by hand on the mean squared error of a linear model: Keras' (and PyTorch's) rule."""
    vw, vb, out = np.zeros_like(w), np.zeros_like(b), []
    for i, (x, y) in enumerate(batches):
        err = x @ w + b - y
        gw, gb = 2 * x.T @ err / err.size, 2 * err.mean(0)
        m = momentum(i)
        vw, vb = m * vw - lr * gw, m * vb - lr * gb
        if nesterov:
            w, b = w + m * vw - lr * gw, b + m * vb - lr * gb
        else:
            w, b = w + vw, b + vb
        out.append(w.copy())
    return out


def trajectory(optimizer, batches, callback=None):
    model = linear_model()
    model.compile(optimizer, "mse")
    start = [v.numpy().copy() for v in model.weights]
    weights = []
    for i, (x, y) in enumerate(batches):
        if callback:
            callback(model, i)
        model.train_on_batch(x, y)
        weights.append(model.weights[0].numpy().copy())
    return start, weights


@pytest.mark.parametrize("nesterov", [False, True])
def test_scheduled_momentum_matches_hand_written_sgd(nesterov):
    batches = data()
    schedule = ck.OneCycleMomentum(total_steps=12, base_momentum=0.5, max_momentum=0.95)
    (w0, b0), got = trajectory(ck.SGD(0.05, momentum=schedule, nesterov=nesterov), batches)
    momentum = lambda i: clr.one_cycle_momentum(i, 12, 0.5, 0.95)  # noqa: E731
    want = hand_sgd(w0, b0, batches, 0.05, momentum, nesterov)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The same check fails for a constant momentum, so it can fail.
    constant = hand_sgd(w0, b0, batches, 0.05, lambda i: 0.95, nesterov)
    assert np.abs(np.array(got) - np.array(constant)).max() > 1e-3


def test_a_callback_setting_momentum_changes_nothing_but_the_schedule_does():
    """What blog-post one-cycle callbacks do: set optimizer.momentum after compiling. On
    TensorFlow and JAX, Keras has baked the float into the compiled step, so the weights are
    those of constant momentum. The torch backend runs the step eagerly: there the callback
    does act (docs/guide/keras.md says so); the schedule acts on every backend."""
    batches = data()

    def naive(model, i):
        model.optimizer.momentum = 0.0 if i else 0.9

    _, with_callback = trajectory(keras.optimizers.SGD(0.05, momentum=0.9), batches, callback=naive)
    _, constant = trajectory(keras.optimizers.SGD(0.05, momentum=0.9), batches)
    if keras.backend.backend() == "torch":
        assert np.abs(np.array(with_callback) - np.array(constant)).max() > 1e-3
    else:
        np.testing.assert_array_equal(with_callback, constant)
    zero_after_first = clr.Join((clr.Constant(0.9), clr.Constant(1e-30)), (1,))
    _, scheduled = trajectory(ck.SGD(0.05, momentum=zero_after_first), batches)
    assert np.abs(np.array(scheduled) - np.array(constant)).max() > 1e-3


def test_scheduled_beta_1_matches_hand_written_adam():
    batches = data()
    beta_1 = ck.CyclicalMomentum(base_momentum=0.5, max_momentum=0.9, step_size=3)
    (w, b), got = trajectory(ck.Adam(0.01, beta_1=beta_1, epsilon=1e-7), batches)
    m, v, want = [np.zeros_like(w), np.zeros_like(b)], [np.zeros_like(w), np.zeros_like(b)], []
    params = [w, b]
    for i, (x, y) in enumerate(batches):
        err = x @ params[0] + params[1] - y
        grads = [2 * x.T @ err / err.size, 2 * err.mean(0)]
        b1 = clr.cyclic_momentum(i, 0.5, 0.9, step_size=3)
        for k in range(2):  # Keras' Adam: bias correction with the *current* beta_1, as PyTorch
            m[k] = m[k] + (grads[k] - m[k]) * (1 - b1)
            v[k] = v[k] + (grads[k] ** 2 - v[k]) * (1 - 0.999)
            alpha = 0.01 * math.sqrt(1 - 0.999 ** (i + 1)) / (1 - b1 ** (i + 1))
            params[k] = params[k] - m[k] * alpha / (np.sqrt(v[k]) + 1e-7)
        want.append(params[0].copy())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_save_mid_run_load_and_continue_is_uninterrupted(tmp_path):
    batches = data(steps=16)

    def optimizer():
        return ck.SGD(
            ck.OneCycle(0.05, 16),
            momentum=ck.OneCycleMomentum(16, three_phase=True),
            lr_multipliers={"dense/bias": 2.0},
        )

    _, straight = trajectory(optimizer(), batches)
    model = linear_model()
    model.compile(optimizer(), "mse")
    for x, y in batches[:7]:
        model.train_on_batch(x, y)
    model.save(tmp_path / "mid.keras")
    loaded = keras.models.load_model(tmp_path / "mid.keras")
    assert isinstance(
        loaded.optimizer.momentum, ck.OneCycleMomentum
    ) and loaded.optimizer.lr_multipliers == {"dense/bias": 2.0}
    resumed = []
    for x, y in batches[7:]:
        loaded.train_on_batch(x, y)
        resumed.append(loaded.weights[0].numpy().copy())
    np.testing.assert_allclose(resumed, straight[7:], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "schedule, numpy_fn",
    [
        (
            lambda: ck.OneCycle(0.1, 500, three_phase=True),
            lambda it: clr.one_cycle(it, 0.1, 500, three_phase=True),
        ),
        (
            lambda: ck.OneCycle(0.1, 500, anneal_strategy="linear"),
            lambda it: clr.one_cycle(it, 0.1, 500, anneal_strategy="linear"),
        ),
        (lambda: ck.OneCycleMomentum(500), lambda it: clr.one_cycle_momentum(it, 500)),
        (
            lambda: ck.CyclicalMomentum(mode="exp_range", gamma=0.999, step_size=40),
            lambda it: clr.cyclic_momentum(it, mode="exp_range", gamma=0.999, step_size=40),
        ),
    ],
)
def test_keras_schedules_match_numpy_and_round_trip(schedule, numpy_fn):
    s = schedule()
    it = np.arange(500)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(s(it)), numpy_fn(it), rtol=2e-5, atol=1e-7
    )
    again = type(s).from_config(s.get_config())
    assert again.policy == s.policy and again.get_config() == s.get_config()
    assert "name" in s.get_config() and set(s.get_config()) - {"name"} == {
        f for f in type(s.policy).__dataclass_fields__
    }


def test_optimizer_arguments_are_checked_at_construction():
    with pytest.raises(
        ValueError, match=r"`momentum` must be a finite number in \[0, 1\). Received: momentum=1.5"
    ):
        ck.SGD(0.1, momentum=1.5)
    with pytest.raises(ValueError, match=r"`lr_multipliers\['x'\]` must be a finite number >= 0"):
        ck.SGD(0.1, lr_multipliers={"x": -1})
    model = linear_model()
    model.compile(ck.SGD(0.1, lr_multipliers={"no_such/bias": 2.0}), "mse")
    with pytest.raises(
        ValueError, match=r"'no_such/bias' must name exactly one trainable variable; it matches 0"
    ):
        model.train_on_batch(*data(1)[0])


# The 1cycle and momentum API under the bad arguments of issue 23: each a clear error naming
# the argument, as for the CLR policies.
BAD_ONE_CYCLE = [
    (lambda: clr.OneCyclePolicy(float("nan"), 100), ValueError, r"`max_lr` must be a finite"),
    (lambda: clr.OneCyclePolicy(float("inf"), 100), ValueError, r"`max_lr` must be a finite"),
    (lambda: clr.OneCyclePolicy(np.array(0.1), 100), TypeError, r"`max_lr`.*a numpy array"),
    (lambda: clr.OneCyclePolicy(True, 100), TypeError, r"`max_lr` must be a finite number"),
    (lambda: clr.OneCyclePolicy(0.1, True), TypeError, r"`total_steps` must be an integer"),
    (lambda: clr.OneCyclePolicy(0.1, 100, pct_start=0), ValueError, r"`pct_start`.*\(0, 1\)"),
    (lambda: clr.OneCyclePolicy(0.1, 100, pct_start=1), ValueError, r"`pct_start`.*\(0, 1\)"),
    (lambda: clr.OneCyclePolicy(0.1, 1), ValueError, r"`total_steps` must be an integer in \[2, "),
    (lambda: clr.OneCyclePolicy(0.1, 100, div_factor=1e-310), ValueError, r"`div_factor`"),
    (lambda: clr.OneCyclePolicy(0.1, 100, three_phase=1), TypeError, r"`three_phase` must be"),
    (lambda: clr.OneCyclePolicy(0.1, 100, anneal_strategy="cosine"), ValueError,
     r"`anneal_strategy` must be one of \('cos', 'linear'\)"),
    (lambda: clr.OneCycleMomentumPolicy(100, max_momentum=1.0), ValueError,
     r"`max_momentum` must be a finite number in \[0, 1\)"),
    (lambda: clr.OneCycleMomentumPolicy(100, base_momentum=float("nan")), ValueError,
     r"`base_momentum`"),
    (lambda: clr.CyclicMomentumPolicy(max_momentum=1.2), ValueError, r"`max_momentum`.*\[0, 1\)"),
    (lambda: clr.CyclicMomentumPolicy(mode="exp_range_bounds", gamma=0.9), ValueError,
     r"`mode` must scale the amplitude for cyclical momentum"),
    (lambda: ck.SGD(momentum=1.0), ValueError, r"`momentum` must be a finite number in \[0, 1\)"),
    (lambda: ck.Adam(beta_1=clr.Linear(0.9, 1.0, 100)), ValueError,
     r"`beta_1` must stay in \[0, 1\) at every step; this schedule ranges over \[0\.9, 1\]"),
    (lambda: ck.SGD(lr_multipliers={"conv1/bias": -1.0}), ValueError,
     r"`lr_multipliers\['conv1/bias'\]` must be a finite number >= 0"),
]  # fmt: skip


@pytest.mark.parametrize(
    "make, error, message", BAD_ONE_CYCLE, ids=[m for _, _, m in BAD_ONE_CYCLE]
)
def test_bad_one_cycle_and_momentum_arguments_name_themselves(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_lr_multipliers_naming_no_variable_say_which():
    model = linear_model()
    model.compile(ck.SGD(0.1, lr_multipliers={"dense/no_such": 2.0}), "mse")
    with pytest.raises(ValueError, match=r"`lr_multipliers` key 'dense/no_such' must name exactly"):
        model.train_on_batch(*data(1)[0])
