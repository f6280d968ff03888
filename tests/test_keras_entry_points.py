"""clr.keras under hostile arguments (issue 26): schedules compute in float32, so values float32
cannot hold are refused at construction with its limits; a custom scale_fn is probed as a
tensor; optimizers check every hyper-parameter, momentum-like ones over a schedule's whole
range; restoring state and configs refuse wrong keys and types in one line. Runs on any
Keras backend.
"""

import math

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_entry_points import CYCLIC, MOMENTA, anything, refused_cleanly, within

import clr
import clr.keras as ck

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STEPS = np.array([0, 1, 999, 2000, 4001, 10**6], dtype=np.int64)


def evaluate(schedule):
    return keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor(STEPS)))


def check_schedule(make, names):
    try:
        schedule = make()
    except Exception as err:  # noqa: BLE001 - the assertion says which kinds are fine
        refused_cleanly(err, names)
        return None
    values = evaluate(schedule)
    assert values.dtype == np.float32
    low, high = schedule.bounds()
    # float32: a few ulps of the largest value (an anneal over a wide range loses them near
    # its low end).
    within(values, low - 2e-6 * high - 1e-38, high * (1 + 1e-6))
    return schedule


@SETTINGS
@given(st.fixed_dictionaries({}, optional=CYCLIC))
def test_cyclical_learning_rate(kwargs):
    check_schedule(lambda: ck.CyclicalLearningRate(**kwargs), list(kwargs))


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"max_lr": anything(st.floats(1e-8, 1e3)), "total_steps": anything(st.integers(2, 10**6))},
        optional=dict(
            div_factor=anything(st.floats(1e-3, 1e6)),
            final_div_factor=anything(st.floats(1e-3, 1e9)),
            pct_start=anything(st.floats(0.01, 0.99)),
        ),
    )
)
def test_one_cycle(kwargs):
    check_schedule(lambda: ck.OneCycle(**kwargs), list(kwargs) + ["max_lr / div_factor"])


@SETTINGS
@given(st.fixed_dictionaries({"total_steps": anything(st.integers(2, 10**6))}, optional=MOMENTA))
def test_momentum_schedules(kwargs):
    check_schedule(lambda: ck.OneCycleMomentum(**kwargs), list(kwargs))
    others = {k: v for k, v in kwargs.items() if k != "total_steps"}
    check_schedule(lambda: ck.CyclicalMomentum(**others), list(others))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(base_lr=1e-50, max_lr=0.006), r"`base_lr` must be within float32's range"),
        (dict(base_lr=0.001, max_lr=1e39), r"`max_lr` must be within float32's range.*3\.4e\+38"),
        (
            dict(step_size=1e-40),
            r"`step_size( \+ step_size_down)?` must be within float32's range.*1\.18e-38",
        ),
        (dict(step_size=3e38), r"`step_size \+ step_size_down` must be within float32's range"),
        (dict(mode="exp_range", gamma=1e-46), r"`gamma` must be within float32's range"),
    ],
)
def test_float32_limits_are_refused_at_construction(kwargs, message):
    clr.CyclicPolicy(**kwargs)  # fine in float64 ...
    with pytest.raises(ValueError, match=message):
        ck.CyclicalLearningRate(**kwargs)  # ... not where Keras computes
    with pytest.raises(ValueError, match=message):
        ck.PolicySchedule(clr.CyclicPolicy(**kwargs))
    with pytest.raises(ValueError, match=message):
        ck.CyclicLR(**kwargs)


def test_float32_limits_inside_composed_schedules():
    with pytest.raises(ValueError, match=r"`schedules\[1\]\.lr` must be within float32's range"):
        ck.PolicySchedule(clr.Join((clr.Constant(0.1), clr.Constant(1e-50)), (10,)))
    with pytest.raises(ValueError, match=r"`max_lr / div_factor` must be within float32's"):
        ck.OneCycle(max_lr=3e38, total_steps=100, div_factor=0.5)


@pytest.mark.parametrize(
    "scale_fn, message",
    [
        (lambda x: x * math.nan, r"must return finite values in \[0, 1\]"),
        (lambda x: -1.0 + 0 * x, r"returned -1\.0"),
        (lambda x: 2.0 + 0 * x, r"returned 2\.0"),
        (
            lambda x: keras.ops.ones((3, 3)),
            r"`scale_fn` (failed on|must return one value per input)",
        ),
        (lambda x: 1 / (x - 1.0), r"must return finite values"),  # inf at cycle 1
    ],
)
def test_a_custom_scale_fn_is_probed_as_a_tensor(scale_fn, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ck.CyclicalLearningRate(scale_fn=scale_fn)
    with pytest.raises((ValueError, TypeError), match=message):
        ck.CyclicalMomentum(scale_fn=scale_fn)


class _Half:
    """A callable object Keras cannot serialize (no `get_config`)."""

    def __call__(self, x):
        return 0.5 + 0 * x


def test_a_scale_fn_that_cannot_be_saved_is_named_when_saving():
    schedule = ck.CyclicalLearningRate(scale_fn=_Half())
    assert float(keras.ops.convert_to_numpy(schedule(2000))) == pytest.approx(0.0035)
    with pytest.raises(TypeError, match=r"`scale_fn` cannot be saved with the model"):
        schedule.get_config()


def test_policy_schedule_holds_a_horizons_last_value():
    policy = clr.OneCyclePolicy(0.01, 100, three_phase=True, anneal_strategy="linear")
    same = ck.OneCycle(0.01, 100, three_phase=True, anneal_strategy="linear")
    for schedule in (ck.PolicySchedule(policy), same):
        late = keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor([99, 100, 5000])))
        # float32 holds the last value to a few ulps of the peak.
        np.testing.assert_allclose(late, policy(99), rtol=0, atol=1e-6 * 0.01)
    # Inside a Join too: the 1cycle phase holds its end until the next phase.
    joined = clr.Join((policy, clr.Constant(0.5)), (200,))
    values = keras.ops.convert_to_numpy(ck.PolicySchedule(joined)(keras.ops.convert_to_tensor(150)))
    assert float(values) == pytest.approx(policy(99), abs=1e-6 * 0.01)


# -- optimizers --------------------------------------------------------------------------------

OPTIMIZERS = {
    "SGD": (ck.SGD, dict(learning_rate=0.01, momentum=0.9)),
    "Adam": (ck.Adam, dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999)),
    "RMSprop": (ck.RMSprop, dict(learning_rate=0.001, rho=0.9, momentum=0.0)),
    "Adagrad": (ck.Adagrad, dict(learning_rate=0.01, initial_accumulator_value=0.1)),
    "Adadelta": (ck.Adadelta, dict(learning_rate=1.0, rho=0.95)),
}


@SETTINGS
@given(
    st.sampled_from(sorted(OPTIMIZERS)),
    st.sampled_from(
        [
            "learning_rate",
            "momentum",
            "beta_1",
            "beta_2",
            "rho",
            "epsilon",
            "initial_accumulator_value",
        ]
    ),  # fmt: skip
    anything(st.floats(0.0, 0.999)),
)
def test_optimizer_hyperparameters(name, argument, value):
    cls, defaults = OPTIMIZERS[name]
    if argument not in defaults and (argument != "epsilon" or name == "SGD"):
        return
    try:
        optimizer = cls(**{**defaults, argument: value})
    except Exception as err:  # noqa: BLE001
        refused_cleanly(err, [argument])
        return
    stored = float(keras.ops.convert_to_numpy(getattr(optimizer, argument)))
    assert math.isfinite(stored)
    if argument in ("momentum", "beta_1", "beta_2", "rho"):
        assert 0 <= stored < 1
    elif argument == "epsilon":
        assert stored > 0
    else:
        assert stored >= 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ck.SGD(momentum=1.0), r"`momentum` must be a finite number in \[0, 1\)"),
        # Keras calls a callable rate with no arguments; `lambda step:` failed in the first step.
        (
            lambda: ck.Adam(learning_rate=lambda step: 0.001),
            r"`learning_rate` given as a callable must take no arguments",
        ),
        (lambda: ck.SGD(learning_rate=lambda: 0.01), None),  # Keras' own form: fine
        (
            lambda: ck.SGD(momentum=clr.CyclicMomentumPolicy(0.5, 0.999, step_size=10)),
            None,  # fine: stays under 1
        ),
        (
            lambda: ck.SGD(momentum=clr.Linear(0.5, 1.2, 100)),
            r"`momentum` must stay in \[0, 1\) at every step; this schedule ranges over "
            r"\[0\.5, 1\.2\]",
        ),
        (
            lambda: ck.Adam(
                beta_1=ck.PolicySchedule(clr.Join((clr.Constant(0.9), clr.Constant(1.5)), (10,)))
            ),  # fmt: skip
            r"`beta_1` must stay in \[0, 1\) at every step",
        ),
        (
            lambda: ck.SGD(momentum=keras.optimizers.schedules.ExponentialDecay(0.9, 10, 0.5)),
            r"`momentum` schedule ExponentialDecay cannot be bounded",
        ),
        (
            lambda: ck.Adam(beta_2=ck.OneCycleMomentum(total_steps=100)),
            r"`beta_2` takes a number, not a schedule",
        ),
        (
            lambda: ck.RMSprop(momentum=ck.OneCycleMomentum(total_steps=100)),
            r"`momentum` takes a number, not a schedule",
        ),
        (lambda: ck.Adam(beta_2=1.0), r"`beta_2` must be a finite number in \[0, 1\)"),
        (lambda: ck.RMSprop(rho=-0.1), r"`rho` must be a finite number in \[0, 1\)"),
        (lambda: ck.Adam(epsilon=0.0), r"`epsilon` must be a finite number > 0"),
        (lambda: ck.SGD(learning_rate=math.nan), r"`learning_rate` must be a finite number >= 0"),
        (lambda: ck.SGD(learning_rate=-0.1), r"`learning_rate` must be a finite number >= 0"),
        (lambda: ck.SGD(learning_rate=1e40), r"`learning_rate` must be within float32's range"),
        (lambda: ck.SGD(nesterov="yes"), r"`nesterov` must be True or False"),
        (lambda: ck.SGD(lr_multipliers={"a/b": -2.0}), r"`lr_multipliers\['a/b'\]` must be"),
        (lambda: ck.SGD(lr_multipliers=[("a/b", 2.0)]), r"`lr_multipliers` must be a dict"),
        (lambda: ck.Adagrad(initial_accumulator_value=-1), r"`initial_accumulator_value` must"),
    ],
)
def test_optimizer_argument_table(make, message):
    if message is None:
        make()
        return
    with pytest.raises((ValueError, TypeError), match=message):
        make()


# -- restoring state and configs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "state, message",
    [
        ([1, 2], r"`state` must be a dict from get_state\(\)"),
        ({}, r"missing \['base_lr', 'clr_iterations', 'max_lr', 'step_size', 'trn_iterations'\]"),
        ({"x": 1}, r"unknown \['x'\]"),
        (dict(clr_iterations=-1, trn_iterations=0, base_lr=0.001, max_lr=0.006, step_size=2000),
         r"`state\['clr_iterations'\]` must be a whole number >= 0|must be an integer >= 0"),
        (dict(clr_iterations=1.5, trn_iterations=0, base_lr=0.001, max_lr=0.006, step_size=2000),
         r"`state\['clr_iterations'\]` must be a whole number"),
        (dict(clr_iterations=0, trn_iterations=0, base_lr="x", max_lr=0.006, step_size=2000),
         r"`base_lr` must be a finite number"),
        (dict(clr_iterations=0, trn_iterations=0, base_lr=0.01, max_lr=0.006, step_size=2000),
         r"`max_lr` must be >= `base_lr`"),
    ],
)  # fmt: skip
def test_set_state_refuses_wrong_keys_types_and_ranges(state, message):
    callback = ck.CyclicLR()
    before = callback.get_state()
    with pytest.raises((ValueError, TypeError), match=message):
        callback.set_state(state)
    assert callback.get_state() == before  # nothing changed
    callback.set_state({**before, "clr_iterations": 10.0, "trn_iterations": np.int64(12)})
    assert (callback.clr_iterations, callback.trn_iterations) == (10, 12)


@pytest.mark.parametrize(
    "cls, config, message",
    [
        (ck.CyclicalLearningRate, [1], r"`config` of CyclicalLearningRate must be a dict"),
        (ck.CyclicalLearningRate, {"base_lr": 0.1, "typo": 1}, r"unknown keys \['typo'\]"),
        (ck.OneCycle, {"total_steps": 10}, r"missing 1 required|`max_lr`"),
        (ck.PolicySchedule, {"name": "x"}, r"missing keys \['policy'\]"),
        (
            ck.PolicySchedule,
            {"policy": {"module": "clr", "class_name": "Nope", "config": {}}},
            r"names the clr class 'Nope', which clr does not have",
        ),
        (
            ck.PolicySchedule,
            {"policy": {"module": "clr", "class_name": "Constant", "config": {"lr": 1, "x": 2}}},
            r"The config of Constant has unknown keys \['x'\]",
        ),
        (ck.CyclicalLearningRate, {"base_lr": math.nan}, r"`base_lr` must be a finite number"),
    ],
)
def test_from_config_refuses_wrong_keys_and_types(cls, config, message):
    with pytest.raises((ValueError, TypeError), match=message):
        cls.from_config(config)


def test_special_values_never_reach_a_schedule():
    for value in [math.nan, math.inf, True, None, "0.1", np.array([0.1, 0.2])]:
        with pytest.raises((ValueError, TypeError), match=r"`base_lr`"):
            ck.CyclicalLearningRate(base_lr=value)
