"""Student's t for three seeds (clr.cifar10.stats), on cases whose answers are known: the
t tables' quantiles, and SciPy's ttest_rel/ttest_ind values written out (SciPy is not needed)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clr.cifar10.stats import (
    holm,
    paired_t_test,
    prediction_interval,
    prediction_interval_two_runs,
    seeds_for_power,
    t_quantile,
    t_sf,
    welch_t_test,
)

# Two-sided 95 % quantiles from any t table: df 1, 2, 3, 4, 10, and the normal's 1.96.
QUANTILES = [(1, 12.7062047), (2, 4.3026527), (3, 3.1824463), (4, 2.7764451), (10, 2.2281389)]


@pytest.mark.parametrize("df, q", QUANTILES)
def test_quantiles_match_the_tables(df, q):
    assert t_quantile(0.975, df) == pytest.approx(q, abs=1e-6)
    assert t_sf(q, df) == pytest.approx(0.025, abs=1e-7)  # q has 7 decimals
    assert t_quantile(0.025, df) == pytest.approx(-q, abs=1e-6)


@pytest.mark.parametrize("df", [1e6, 1e9, 1e15, 1e300, math.inf])
def test_large_df_tends_to_the_normal(df):
    # Past about 1e8 the continued fraction lost its digits: df=inf gave 4.5e-13, df=1e300
    # gave 8.6e141, silently.
    assert t_quantile(0.975, df) == pytest.approx(1.959964, abs=1e-5)
    assert t_sf(1.96, df) == pytest.approx(0.5 * math.erfc(1.96 / math.sqrt(2)), rel=1e-5)


@pytest.mark.parametrize("p", [1e-300, 1e-10, 0.3, 0.5, 0.9, 1 - 1e-12])
def test_quantiles_with_two_degrees_of_freedom_have_a_closed_form(p):
    # t_2's quantile is (2p - 1) / sqrt(2p(1 - p)); a tiny p was refused as "p=1.0" before.
    expected = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert t_quantile(p, 2) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: t_sf(math.nan, 2), ValueError, r"`t` must be a number, not NaN"),
        (lambda: t_sf(1.0, math.nan), ValueError, r"`df` must be > 0"),
        (lambda: t_sf("1", 2), TypeError, r"`t` must be a number"),
        (lambda: t_quantile(0.5, "2"), TypeError, r"`df` must be a number > 0"),
        (lambda: t_quantile(True, 2), TypeError, r"`p` must be a number in \(0, 1\)"),
        (lambda: t_quantile(1e-320, 1), ValueError, r"`p` is too close to 0 or 1"),
        (lambda: paired_t_test("abc", [1, 2, 3]), TypeError, r"`a` must be a 1-D sequence"),
        (lambda: welch_t_test([1e308, -1e308, 0], [1, 2, 3]), ValueError, r"within ±1e\+150"),
    ],
    ids=repr,
)
def test_arguments_are_named_when_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_cauchy_is_t_with_one_degree_of_freedom():
    for t in (-3.0, -0.5, 0.0, 0.7, 5.0):
        assert t_sf(t, 1) == pytest.approx(0.5 - math.atan(t) / math.pi, abs=1e-12)


def test_paired_known_case():
    # scipy.stats.ttest_rel([1, 2, 3.5], [0.5, 1.2, 2.0]): t 3.15024612, p 0.08771070.
    r = paired_t_test([1, 2, 3.5], [0.5, 1.2, 2.0])
    assert (r.kind, r.df, r.n) == ("paired", 2, (3, 3))
    assert r.difference == pytest.approx(0.933333333)
    assert r.t == pytest.approx(3.15024612) and r.p_value == pytest.approx(0.08771070, abs=1e-8)
    half = 4.30265273 * np.std([0.5, 0.8, 1.5], ddof=1) / math.sqrt(3)
    assert (r.low, r.high) == pytest.approx((0.933333333 - half, 0.933333333 + half))


def test_welch_known_case():
    # scipy.stats.ttest_ind([1, 2, 3.5], [0.5, 1.2, 2.0, 4], equal_var=False):
    # t 0.23041285, p 0.82713434, df 4.87086357.
    r = welch_t_test([1, 2, 3.5], [0.5, 1.2, 2.0, 4])
    assert r.kind == "welch" and r.df == pytest.approx(4.87086357)
    assert r.t == pytest.approx(0.23041285) and r.p_value == pytest.approx(0.82713434, abs=1e-8)


def test_pairing_removes_a_shared_seed_effect():
    # Seeds that move both policies alike: unpaired, the spread hides a steady gap of 0.5.
    seed_effect = np.array([0.0, 1.0, -1.0])
    a, b = 80.0 + seed_effect, 79.5 + seed_effect + np.array([0.01, -0.02, 0.01])
    assert paired_t_test(a, b).p_value < 0.001
    assert welch_t_test(a, b).p_value > 0.4


def test_no_spread_and_bad_input():
    same = paired_t_test([1.0, 2.0], [0.5, 1.5])
    assert same.p_value == 0.0 and same.low == same.high == 0.5
    assert paired_t_test([1.0, 2.0], [1.0, 2.0]).p_value == 1.0
    with pytest.raises(ValueError, match=r"`a` and `b` must be paired"):
        paired_t_test([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match=r"`a` and `b` must be paired"):
        paired_t_test([1.0], [1.0])
    with pytest.raises(ValueError, match=r"`a` must be a 1-D sequence of finite numbers"):
        paired_t_test([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"need 2 values each"):
        welch_t_test([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`p` must be in \(0, 1\)"):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError, match=r"`df` must be > 0"):
        t_sf(1.0, 0)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.001, 0.999),
    st.floats(0.5, 200.0),
)
def test_quantile_inverts_the_tail(p, df):
    assert t_sf(t_quantile(p, df), df) == pytest.approx(1 - p, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=6), st.floats(-2, 2))
def test_interval_holds_the_difference_and_agrees_with_p(diffs, shift):
    b = np.zeros(len(diffs))
    r = paired_t_test(np.asarray(diffs) + shift, b)
    assert r.low <= r.difference <= r.high
    if r.low != r.high:
        assert (r.p_value < 0.05) == (r.low > 0 or r.high < 0)


def test_prediction_interval_known_case():
    # mean 2, sd 1, n 3: 2 ± t(0.975, 2) · sqrt(1 + 1/3)
    mean, low, high = prediction_interval([1.0, 2.0, 3.0])
    half = 4.3026527 * math.sqrt(4 / 3)
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half), abs=1e-6)
    # far wider than the confidence interval for the mean from the same seeds
    test = paired_t_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert high - low > 1.9 * (test.high - test.low)


def test_prediction_interval_of_two_runs():
    # b has no spread: the interval is a's own prediction interval, shifted by b's mean.
    mean, low, high = prediction_interval_two_runs([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    m, lo, hi = prediction_interval([1.0, 2.0, 3.0])
    assert (mean, low, high) == pytest.approx((m - 5.0, lo - 5.0, hi - 5.0))
    # the degrees of freedom are the smaller sample's: 2 seeds against 5 use t(1)
    _, low, high = prediction_interval_two_runs([0.0, 1.0], [0.0] * 5)
    assert (high - low) / 2 == pytest.approx(12.7062047 * math.sqrt(0.5 * 1.5), abs=1e-5)
    with pytest.raises(ValueError, match=r"`a` and `b` need 2 values each"):
        prediction_interval_two_runs([1.0], [1.0, 2.0])


def test_holm_matches_the_textbook():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, made monotone: 0.02, 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5]) == [0.5]
    assert holm([0.4, 0.5]) == [0.8, 0.8]
    with pytest.raises(ValueError, match=r"`p_values` must lie in \[0, 1\]"):
        holm([0.1, 1.5])


@pytest.mark.parametrize("effect, sd, n", [(1.0, 1.0, 10), (0.5, 1.0, 34), (-2.0, 1.0, 5)])
def test_seeds_for_power_matches_the_power_tables(effect, sd, n):
    # A paired t-test at 80 % power: pwr.t.test(d=1, power=0.8, type="paired") gives n = 9.94,
    # d = 0.5 gives 33.4, d = 2 gives 4.2 (the noncentral t; ours is the usual t approximation).
    assert seeds_for_power(effect, sd) == n


def test_seeds_for_power_refuses_what_it_cannot_answer():
    with pytest.raises(ValueError, match=r"`effect` must be non-zero and `sd` > 0"):
        seeds_for_power(0.0, 1.0)
    with pytest.raises(TypeError, match=r"`sd` must be a finite number"):
        seeds_for_power(1.0, math.nan)
