"""Every public entry point under hostile arguments (issue 26): random finite, non-finite,
extreme, wrongly typed and wrongly shaped values give either finite values in the documented
range or a ValueError/TypeError that names the argument and what must hold. numpy scalar types
behave exactly like the Python ones.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clr
from clr import Constant, Exponential, Join, Linear, Offset

# numpy's overflow and invalid-value warnings are failures here: a warning from inside numpy is
# what a user should never see, and it often comes with an inf or a nan.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values nobody should get past a constructor unnoticed, and plenty of fair ones.
SPECIAL = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        True,
        False,
        None,
        "0.1",
        b"1",
        [0.1],
        (0.1, 0.2),
        {"a": 1},
        np.array(0.1),
        np.array([0.1, 0.2]),
        object(),
        0.0,
        -0.0,
        -1.0,
        1e-320,
        5e-324,
        1e-300,
        1e300,
        1.7e308,
        2.0**53,
        2.0**60,
    ]
)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
SMALL_POSITIVE = st.floats(min_value=1e-8, max_value=1e3)
NUMPY = st.one_of(
    FINITE.map(np.float64),
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(np.float32),
    st.integers(-(2**40), 2**40).map(np.int64),
)


def anything(good):
    return st.one_of(good, FINITE, SPECIAL, NUMPY, st.integers(-(10**20), 10**20))


def refused_cleanly(err, names):
    """The message names one of ``names`` (in backticks, Keras style) and says what must hold,
    on one line."""
    text = str(err)
    assert isinstance(err, (ValueError, TypeError)), repr(err)
    assert any(f"`{n}" in text or f"{n}" in re.findall(r"`([^`]+)`", text) for n in names), text
    assert "must" in text, text
    assert "\n" not in text, text


def within(values, low, high):
    values = np.asarray(values, dtype=float)
    assert np.all(np.isfinite(values)), values
    slack = 1e-9 * max(abs(low), abs(high)) + 1e-300
    assert np.all(values >= low - slack) and np.all(values <= high + slack), (values, low, high)


ITERATIONS = np.array([0, 1, 7, 999, 1000, 2000, 4001, 12_345, 1e6, 3.3e9, 2.0**53])


def check_policy(make, names):
    try:
        policy = make()
    except Exception as err:  # noqa: BLE001 - the assertion says which kind is fine
        refused_cleanly(err, names)
        return None
    low, high = policy.bounds()
    total = getattr(policy, "total_steps", None)
    it = ITERATIONS if total is None else np.unique(np.clip(ITERATIONS, 0, total - 1))
    within(policy(it), low, high)
    return policy


CYCLIC = dict(
    base_lr=anything(SMALL_POSITIVE),
    max_lr=anything(SMALL_POSITIVE),
    step_size=anything(st.floats(min_value=1e-3, max_value=1e6)),
    mode=st.one_of(st.sampled_from(clr.MODES).map(np.str_), st.sampled_from(clr.MODES), SPECIAL),
    gamma=anything(st.floats(min_value=0.5, max_value=1.0)),
    step_size_down=st.one_of(st.none(), anything(st.floats(min_value=1e-3, max_value=1e6))),
)


@SETTINGS
@given(st.fixed_dictionaries({}, optional=CYCLIC))
def test_cyclic_policy(kwargs):
    check_policy(lambda: clr.CyclicPolicy(**kwargs), list(kwargs) + ["iterations"])


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"max_lr": anything(SMALL_POSITIVE), "total_steps": anything(st.integers(2, 10**6))},
        optional=dict(
            pct_start=anything(st.floats(0.01, 0.99)),
            anneal_strategy=st.one_of(st.sampled_from(["cos", "linear"]), SPECIAL),
            div_factor=anything(st.floats(1e-3, 1e6)),
            final_div_factor=anything(st.floats(1e-3, 1e9)),
            three_phase=st.one_of(st.booleans(), SPECIAL),
        ),
    )
)
def test_one_cycle(kwargs):
    check_policy(lambda: clr.OneCyclePolicy(**kwargs), list(kwargs))


MOMENTA = dict(
    base_momentum=anything(st.floats(0.0, 0.999)),
    max_momentum=anything(st.floats(0.0, 0.999)),
)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"total_steps": anything(st.integers(2, 10**6))},
        optional=dict(MOMENTA, pct_start=anything(st.floats(0.01, 0.99))),
    )
)
def test_one_cycle_momentum(kwargs):
    policy = check_policy(lambda: clr.OneCycleMomentumPolicy(**kwargs), list(kwargs))
    if policy is not None:
        assert 0 <= policy.bounds()[0] <= policy.bounds()[1] < 1


@SETTINGS
@given(
    st.fixed_dictionaries(
        {},
        optional=dict(
            MOMENTA,
            step_size=CYCLIC["step_size"],
            mode=CYCLIC["mode"],
            gamma=CYCLIC["gamma"],
        ),
    )
)
def test_cyclic_momentum(kwargs):
    policy = check_policy(lambda: clr.CyclicMomentumPolicy(**kwargs), list(kwargs))
    if policy is not None:
        assert policy.bounds()[1] < 1


@SETTINGS
@given(
    st.lists(anything(SMALL_POSITIVE), min_size=1, max_size=3),
    st.lists(anything(st.integers(1, 10**6)), min_size=0, max_size=3),
    anything(st.floats(1e-3, 1e6)),
    anything(st.floats(0.5, 1.0)),
)
def test_composed_schedules(lrs, boundaries, steps, gamma):
    names = ["lr", "boundaries", "schedules", "steps", "start_lr", "end_lr", "base_lr", "gamma"]
    names += [f"boundaries[{k}]" for k in range(len(boundaries))]
    check_policy(lambda: Join(tuple(Constant(x) for x in lrs), tuple(boundaries)), names)
    check_policy(lambda: Linear(lrs[0], lrs[-1], steps), names)
    check_policy(lambda: Exponential(lrs[0], gamma), names)
    check_policy(lambda: Offset(Constant(lrs[0]), steps), names + ["iterations"])


@SETTINGS
@given(anything(st.integers(0, 10**7)))
def test_iterations_argument(iterations):
    policy = clr.CyclicPolicy()
    try:
        values = policy(iterations)
    except Exception as err:  # noqa: BLE001
        refused_cleanly(err, ["iterations"])
        return
    within(values, 0.001, 0.006)


@SETTINGS
@given(
    anything(st.integers(1, 10**6)),
    anything(st.integers(1, 1000)),
    st.one_of(st.tuples(SMALL_POSITIVE, SMALL_POSITIVE), SPECIAL, st.tuples(SPECIAL, SPECIAL)),
)
def test_step_size_range(train_examples, batch_size, epochs):
    try:
        r = clr.step_size_range(train_examples, batch_size, epochs)
    except Exception as err:  # noqa: BLE001
        refused_cleanly(err, ["train_examples", "batch_size", "epochs"])
        return
    assert 1 <= r.low <= r.high and r.iterations_per_epoch >= 1


@SETTINGS
@given(anything(st.floats(0.5, 1.0)))
def test_scale_functions(gamma):
    try:
        scale = clr.ExpScale(gamma)
    except Exception as err:  # noqa: BLE001
        refused_cleanly(err, ["gamma"])
        return
    within(scale(np.array([0.0, 1.0, 1e6, 2.0**53])), 0.0, 1.0)


# -- numpy scalar types behave exactly like the Python ones ----------------------------------


@pytest.mark.parametrize(
    "convert",
    [np.float64, np.int64, lambda v: np.float32(v) if isinstance(v, float) else v],
    ids=["float64", "int64", "float32"],
)
def test_numpy_scalars_are_python_numbers(convert):
    python = dict(base_lr=0.001, max_lr=0.006, step_size=2000, gamma=0.99994)
    numpy_ = {
        k: (convert(v) if not (convert is np.int64 and isinstance(v, float)) else v)
        for k, v in python.items()
    }
    a = clr.CyclicPolicy(mode="exp_range", **python)
    b = clr.CyclicPolicy(mode=np.str_("exp_range"), **numpy_)
    assert type(b.mode) is str and all(type(getattr(b, k)) is float for k in python)
    expected = clr.CyclicPolicy(mode="exp_range", **{k: float(v) for k, v in numpy_.items()})
    np.testing.assert_array_equal(b(ITERATIONS[:-1]), expected(ITERATIONS[:-1]))
    if convert is np.float64:
        assert a == b
    assert clr.Join((Constant(0.001), Constant(0.0001)), (np.int64(5),)).boundaries == (5,)
    assert clr.Join((Constant(0.001), Constant(0.0001)), (np.float64(5.0),)).boundaries == (5,)


@pytest.mark.parametrize("bad", [math.nan, True, 2.5, -3, 0, "5", math.inf], ids=repr)
def test_join_boundaries_must_be_positive_whole_numbers(bad):
    with pytest.raises((ValueError, TypeError), match=r"`boundaries\[0\]` must be"):
        Join((Constant(0.001), Constant(0.0001)), (bad,))


@pytest.mark.parametrize("bad", [np.array(5), 5, "ab", None], ids=repr)
@pytest.mark.parametrize("name", ["schedules", "boundaries"])
def test_join_takes_sequences_and_names_the_one_that_is_not(name, bad):
    # A 0-d array has `__iter__` yet refuses to iterate: it once escaped as numpy's own error.
    args = {"schedules": (Constant(0.001), Constant(0.0001)), "boundaries": (5,), name: bad}
    with pytest.raises(TypeError, match=rf"`{name}` must be a sequence"):
        Join(**args)


# Cases the random search above found on its own, kept so every run tries them.


def test_an_epoch_count_whose_step_size_overflows_is_refused_by_name():
    with pytest.raises(ValueError, match=r"`epochs` must be .* at most 8.99e\+307 epochs"):
        clr.step_size_range(2, 1, epochs=(1e-320, 1.7e308))


def test_total_steps_stops_where_float64_stops_counting():
    with pytest.raises(
        ValueError, match=r"`total_steps` must be an integer in \[2, 9007199254740992\]"
    ):
        clr.OneCycleMomentumPolicy(total_steps=2**53 + 1)
    last = 2**53 - 1
    assert clr.OneCycleMomentumPolicy(total_steps=2**53)(float(last)) == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("step_size", "step_size_down"),
    [(5e-324, 1.7e308), (1e-300, 1.7e308), (1e-3, 5e-324), (1e300, 1e-300), (2.0**60, 5e-324)],
)
def test_a_tiny_step_beside_a_huge_one_computes_without_overflow(step_size, step_size_down):
    # numpy computes both sides of the rise/fall choice; the side not taken once overflowed
    policy = clr.CyclicPolicy(step_size=step_size, step_size_down=step_size_down)
    within(policy(ITERATIONS), *policy.bounds())


def test_a_final_rate_that_overflows_is_refused_by_name():
    with pytest.raises(ValueError, match=r"`final_div_factor` must be at least 2.23e-310"):
        clr.OneCyclePolicy(max_lr=1.0, total_steps=4, final_div_factor=1e-320)
