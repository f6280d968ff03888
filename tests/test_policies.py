"""The numpy policies: the original callback's numbers, the curve's shape, refusals of bad input."""

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clr
from clr import CyclicPolicy, cyclic_lr


def seed_formula(iterations, base_lr, max_lr, step_size, scale_fn, scale_mode):
    """The seed callback's clr(), one scalar at a time (the naive reference)."""
    cycle = math.floor(1 + iterations / (2 * step_size))
    x = abs(iterations / step_size - 2 * cycle + 1)
    arg = cycle if scale_mode == "cycle" else iterations
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x) * scale_fn(arg)


ORIGINAL_SCALES = {
    "triangular": (lambda x: 1.0, "cycle"),
    "triangular2": (lambda x: 1 / (2.0 ** (x - 1)), "cycle"),
    "exp_range": (lambda x: 0.99994**x, "iterations"),
}

# peers-and-paper.md §1.6: base 0.001, max 0.006, step 2000.
ORIGINAL_TABLE = [
    # iteration, triangular, triangular2, exp_range (gamma 0.99994)
    (0, 0.001, 0.001, 0.001),
    (1, 0.0010025, 0.0010025, 0.0010025),
    (1000, 0.0035, 0.0035, 0.0033544),
    (2000, 0.006, 0.006, 0.0054346),
    (3000, 0.0035, 0.0035, 0.0030882),
    (4000, 0.001, 0.001, 0.001),
    (6000, 0.006, 0.0035, 0.0044883),
    (10000, 0.006, 0.00225, 0.003744),
]


@pytest.mark.parametrize("row", ORIGINAL_TABLE, ids=lambda r: f"it{r[0]}")
@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_seed_table(row, mode):
    expected = row[1 + ["triangular", "triangular2", "exp_range"].index(mode)]
    gamma = 0.99994 if mode == "exp_range" else 1.0
    got = cyclic_lr(row[0], base_lr=0.001, max_lr=0.006, step_size=2000, mode=mode, gamma=gamma)
    assert got == pytest.approx(expected, abs=5e-8)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_matches_seed_formula_everywhere(mode):
    scale_fn, scale_mode = ORIGINAL_SCALES[mode]
    gamma = 0.99994 if mode == "exp_range" else 1.0
    it = np.arange(0, 25_000, 7)
    got = cyclic_lr(it, 0.001, 0.006, 2000, mode=mode, gamma=gamma)
    want = [seed_formula(i, 0.001, 0.006, 2000, scale_fn, scale_mode) for i in it]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_seed_custom_policies():
    """The original callback's custom policies: sine on cycle, 1/5**(x*1e-4) on iterations."""
    it = np.arange(0, 40_000, 13)
    sine = lambda x: 0.5 * (1 + np.sin(x * np.pi / 2.0))  # noqa: E731
    decay = lambda x: 1 / (5 ** (x * 0.0001))  # noqa: E731
    for builtin, lam, scale_mode in [
        (clr.SineScale(), sine, "cycle"),
        (clr.ExpScale(5**-1e-4), decay, "iterations"),
    ]:
        want = [seed_formula(i, 0.001, 0.006, 2000, lam, scale_mode) for i in it]
        np.testing.assert_allclose(
            cyclic_lr(it, scale_fn=builtin, scale_mode=scale_mode), want, rtol=1e-10, atol=1e-15
        )
        np.testing.assert_allclose(
            cyclic_lr(it, scale_fn=lam, scale_mode=scale_mode), want, rtol=1e-12, atol=1e-15
        )


def test_asymmetric_cycle_matches_pytorch_example():
    # peers-and-paper.md §2.2: up 1000, down 3000.
    got = cyclic_lr([0, 500, 1000, 2000, 3000, 4000], step_size=1000, step_size_down=3000)
    np.testing.assert_allclose(
        got, [0.001, 0.0035, 0.006, 0.004333333, 0.002666667, 0.001], atol=1e-9
    )


def test_scalar_gives_float_array_gives_array():
    assert isinstance(cyclic_lr(5), float)
    assert isinstance(cyclic_lr(np.int64(5)), float)
    out = cyclic_lr(np.arange(12).reshape(3, 4))
    assert isinstance(out, np.ndarray) and out.shape == (3, 4) and out.dtype == np.float64
    assert cyclic_lr([0, 2000]).tolist() == [0.001, 0.006]


def test_huge_iteration_counts():
    # Position inside the cycle is computed exactly, so far-out cycles are still exact.
    k = 10**9
    assert cyclic_lr(k * 4000) == pytest.approx(0.001)
    assert cyclic_lr(k * 4000 + 2000) == pytest.approx(0.006)
    assert cyclic_lr(k * 4000 + 1000, mode="exp_range", gamma=0.99994) == pytest.approx(0.001)


def test_scale_mode_explicit_and_default():
    assert CyclicPolicy(mode="exp_range", gamma=0.9).resolved_scale_mode == "iterations"
    assert CyclicPolicy(mode="triangular2", scale_mode="cycle").resolved_scale_mode == "cycle"
    assert CyclicPolicy(scale_fn=clr.SineScale()).resolved_scale_mode == "cycle"
    assert (
        CyclicPolicy(scale_fn=clr.SineScale(), scale_mode="iterations").resolved_scale_mode
        == "iterations"
    )


def test_builtin_scales_pickle_and_compare():
    policy = CyclicPolicy(scale_fn=clr.ExpScale(0.999), scale_mode="iterations")
    again = pickle.loads(pickle.dumps(policy))
    assert again == policy
    np.testing.assert_array_equal(again(np.arange(5000)), policy(np.arange(5000)))
    for scale in (clr.ConstantScale(), clr.HalvingScale(), clr.ExpScale(0.5), clr.SineScale()):
        assert pickle.loads(pickle.dumps(scale)) == scale


# -- properties of the curve ---------------------------------------------------------------

bounds = st.tuples(st.floats(1e-6, 1.0), st.floats(1.0, 100.0)).map(lambda t: (t[0], t[0] * t[1]))
step_sizes = st.integers(1, 5000)


@settings(max_examples=60, deadline=None)
@given(bounds, step_sizes, st.integers(0, 10**6))
def test_triangular_is_periodic_bounded_and_symmetric(lrs, step_size, i):
    base_lr, max_lr = lrs
    f = lambda it: cyclic_lr(it, base_lr, max_lr, step_size)  # noqa: E731
    lr = f(i)
    assert base_lr * (1 - 1e-12) <= lr <= max_lr * (1 + 1e-12)
    assert f(i + 2 * step_size) == pytest.approx(lr, rel=1e-9)
    # Symmetric around each peak: peak at (2k+1)*step_size.
    k = i // (2 * step_size)
    peak = (2 * k + 1) * step_size
    d = i % step_size
    assert f(peak - d) == pytest.approx(f(peak + d), rel=1e-9)
    assert f(2 * k * step_size) == pytest.approx(base_lr)
    assert f(peak) == pytest.approx(max_lr)


@settings(max_examples=40, deadline=None)
@given(bounds, step_sizes, st.integers(1, 30))
def test_triangular2_halves_the_amplitude_each_cycle(lrs, step_size, cycle):
    base_lr, max_lr = lrs
    peak = (2 * cycle - 1) * step_size
    amp = cyclic_lr(peak, base_lr, max_lr, step_size, mode="triangular2") - base_lr
    amp_next = (
        cyclic_lr(peak + 2 * step_size, base_lr, max_lr, step_size, mode="triangular2") - base_lr
    )
    # lr - base_lr cancels digits when the amplitude is tiny: tolerance relative to max_lr.
    assert amp == pytest.approx((max_lr - base_lr) / 2 ** (cycle - 1), rel=1e-9, abs=1e-14 * max_lr)
    assert amp_next == pytest.approx(amp / 2, rel=1e-9, abs=1e-14 * max_lr)


@settings(max_examples=40, deadline=None)
@given(bounds, step_sizes, st.floats(0.9, 1.0), st.integers(0, 50_000))
def test_exp_range_envelope(lrs, step_size, gamma, i):
    base_lr, max_lr = lrs
    lr = cyclic_lr(i, base_lr, max_lr, step_size, mode="exp_range", gamma=gamma)
    tri = cyclic_lr(i, base_lr, max_lr, step_size)
    assert lr - base_lr == pytest.approx((tri - base_lr) * gamma**i, rel=1e-9, abs=1e-14 * max_lr)


@settings(max_examples=40, deadline=None)
@given(bounds, st.integers(1, 3000), st.integers(1, 3000))
def test_asymmetric_cycle_shape(lrs, up, down):
    base_lr, max_lr = lrs
    it = np.arange(0, 2 * (up + down) + 1)
    lr = cyclic_lr(it, base_lr, max_lr, up, step_size_down=down)
    assert lr[0] == pytest.approx(base_lr) and lr[up] == pytest.approx(max_lr)
    assert lr[up + down] == pytest.approx(base_lr)
    assert np.all(np.diff(lr[: up + 1]) >= -1e-15) and np.all(
        np.diff(lr[up : up + down + 1]) <= 1e-15
    )
    np.testing.assert_allclose(lr[up + down :], lr[: up + down + 1], rtol=1e-9)


# -- refusals -------------------------------------------------------------------------------

BAD = [
    (dict(base_lr=0), ValueError, r"`base_lr` must be a finite number > 0\. Received: base_lr=0"),
    (dict(base_lr=-1e-3), ValueError, r"`base_lr`.*> 0"),
    (dict(base_lr=float("nan")), ValueError, r"`base_lr`.*Received: base_lr=nan"),
    (dict(base_lr=float("inf")), ValueError, r"`base_lr`.*finite"),
    (dict(base_lr="0.1"), TypeError, r"`base_lr` must be a finite number"),
    (
        dict(max_lr=0.0005),
        ValueError,
        r"`max_lr` must be >= `base_lr` \(0\.001\)\. Received: max_lr=0\.0005",
    ),
    (dict(max_lr=float("inf")), ValueError, r"`max_lr`.*finite"),
    (
        dict(step_size=0),
        ValueError,
        r"`step_size` must be a finite number > 0\. Received: step_size=0",
    ),
    (dict(step_size=-5), ValueError, r"`step_size`"),
    (dict(step_size=float("inf")), ValueError, r"`step_size`.*finite"),
    (dict(step_size=None), TypeError, r"`step_size`"),
    (dict(step_size_down=0), ValueError, r"`step_size_down`.*> 0"),
    (
        dict(mode="exp_range", gamma=0),
        ValueError,
        r"`gamma` must be a finite number in \(0, 1\]\. Received: gamma=0",
    ),
    (dict(mode="exp_range", gamma=1.01), ValueError, r"`gamma`.*\(0, 1\]"),
    (dict(mode="exp_range", gamma=float("nan")), ValueError, r"`gamma`"),
    (
        dict(gamma=0.99),
        ValueError,
        r"`gamma` only applies to mode 'exp_range' or 'exp_range_bounds' and must stay 1.0 for "
        r"mode='triangular'",
    ),
    (
        dict(mode="triangle"),
        ValueError,
        r"`mode` must be one of \('triangular', 'triangular2', 'exp_range', 'exp_range_bounds'\)\. "
        r"Received: "
        r"mode='triangle'",
    ),
    (
        dict(scale_mode="epochs"),
        ValueError,
        r"`scale_mode` must be None or one of \('cycle', 'iterations'\)",
    ),
    (
        dict(mode="exp_range", scale_mode="cycle"),
        ValueError,
        r"`scale_mode` must be None or 'iterations' for mode='exp_range'",
    ),
    (
        dict(mode="triangular2", scale_mode="iterations"),
        ValueError,
        r"`scale_mode` must be None or 'cycle' for mode='triangular2'",
    ),
    (dict(scale_fn=3), TypeError, r"`scale_fn` must be callable"),
    (dict(mode="triangular2", scale_fn=clr.SineScale()), ValueError, r"`mode` and `scale_fn`"),
    (dict(scale_fn=lambda x: 1 / 0), ValueError, r"`scale_fn` raised ZeroDivisionError"),
    (dict(scale_fn=lambda x: x.nope), ValueError, r"`scale_fn` raised AttributeError"),
    (
        dict(scale_fn=lambda x: x),
        ValueError,
        r"`scale_fn` must return finite values in \[0, 1\]; at cycle number 2 it returned 2\.0",
    ),
    (
        dict(scale_fn=lambda x: -0.5 + 0 * x),
        ValueError,
        r"`scale_fn` must return finite values in \[0, 1\]",
    ),
    (
        dict(scale_fn=lambda x: np.log(x - 1)),
        ValueError,
        r"`scale_fn` must return finite values.*returned -inf",
    ),
    (
        dict(scale_fn=lambda x: np.ones(3)),
        ValueError,
        r"`scale_fn` must return one value per input",
    ),
]


@pytest.mark.parametrize("kwargs, error, message", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_parameters_are_refused_with_a_clear_message(kwargs, error, message):
    with np.errstate(all="ignore"), pytest.raises(error, match=message):
        cyclic_lr(10, **kwargs)


@pytest.mark.parametrize(
    "iterations, error, message",
    [
        (
            -1,
            ValueError,
            r"`iterations` must be finite, >= 0 and <= 2\*\*53\. Received: iterations containing "
            r"-1\.0",
        ),
        ([0, 5, -3], ValueError, r"`iterations`.*-3\.0"),
        (float("nan"), ValueError, r"`iterations`.*nan"),
        ("10", TypeError, r"`iterations` must be a number in \[0, 2\*\*53\]"),
        (2.0**54, ValueError, r"`iterations` must be finite, >= 0 and <= 2\*\*53"),
        (True, TypeError, r"`iterations` must be a number"),
        ([[0, 1], [2]], TypeError, r"`iterations`"),
    ],
)
def test_bad_iterations(iterations, error, message):
    with pytest.raises(error, match=message):
        cyclic_lr(iterations)


def test_scale_fn_checked_beyond_the_probe():
    # Fine on the first 16 cycles (the construction probe), wrong at cycle 40: caught at call time.
    policy = CyclicPolicy(scale_fn=lambda c: np.where(c < 40, 1.0, 7.0), step_size=10)
    assert policy(100) == pytest.approx(0.001)
    with pytest.raises(ValueError, match=r"at cycle number 40 it returned 7\.0"):
        policy(np.arange(0, 2000))


def test_max_lr_equal_base_lr_is_a_constant_rate():
    np.testing.assert_allclose(cyclic_lr(np.arange(100), 0.01, 0.01, 7), 0.01)


def test_step_size_range_follows_the_paper():
    assert clr.step_size_range(50_000, 100) == (
        500,
        1000,
        5000,
    )  # CIFAR-10: the paper's 2000 is inside
    assert clr.step_size_range(1000, 300).iterations_per_epoch == 4  # the partial batch counts
    assert clr.step_size_range(1000, 20, epochs=(4, 4)) == (50, 200, 200)
    with pytest.raises(
        ValueError, match=r"`batch_size` must be an integer >= 1\. Received: batch_size=0"
    ):
        clr.step_size_range(1000, 0)
    with pytest.raises(ValueError, match=r"`epochs` must be \(low, high\)"):
        clr.step_size_range(1000, 10, epochs=(5, 2))


def test_docstring_examples():
    import doctest

    from clr import _policies

    assert doctest.testmod(_policies).failed == 0
