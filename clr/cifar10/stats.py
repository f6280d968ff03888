"""Student's t for a few seeds: the paired test by seed, Welch's test, and their intervals.

Three seeds give two degrees of freedom, where the normal approximation behind a "two
standard errors" rule is far too confident (the 95 % quantile is 4.30, not 1.96). The seeds of
this project's runs share their initial weights and batch order across policies, so a
difference between two policies is best judged paired by seed; Welch's test serves where the
seeds do not match. numpy only: the t distribution comes from the regularized incomplete beta
function, evaluated by its continued fraction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["TTest", "t_sf", "t_quantile", "paired_t_test", "welch_t_test"]


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):  # fmt: skip
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"`df` must be > 0. Received: df={df!r}")
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on :func:`t_sf`, to 1e-12)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"`p` must be in (0, 1). Received: p={p!r}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_sf(high, df) > 1.0 - p:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if t_sf(mid, df) > 1.0 - p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return 0.5 * (low + high)


class TTest(NamedTuple):
    """A difference of means with its t statistic, degrees of freedom, two-sided p-value and
    confidence interval (``level``, 95 % by default)."""

    difference: float
    low: float
    high: float
    t: float
    df: float
    p_value: float
    kind: str  # "paired" or "welch"
    n: tuple[int, int]
    level: float = 0.95


def _interval(difference: float, se: float, df: float, level: float) -> tuple[float, float]:
    half = t_quantile(0.5 + level / 2.0, df) * se
    return difference - half, difference + half


def _finite(name: str, values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be a 1-D sequence of finite numbers. Received: {values!r}")
    return array


def paired_t_test(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> TTest:
    """Paired t-test of ``mean(a - b)`` against 0 (``a[k]`` and ``b[k]`` share seed ``k``).

    Needs two pairs at least; with no spread in the differences the p-value is 0 (or 1 for a
    zero difference) and the interval a point.
    """
    x, y = _finite("a", a), _finite("b", b)
    if x.size != y.size or x.size < 2:
        raise ValueError(
            "`a` and `b` must be paired: as long as each other, 2 values at least. Received: "
            f"{x.size} and {y.size} values"
        )
    d = x - y
    difference, df = float(d.mean()), x.size - 1
    se = float(d.std(ddof=1)) / math.sqrt(x.size)
    return _result(difference, se, df, "paired", (x.size, y.size), level)


def welch_t_test(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> TTest:
    """Welch's t-test of ``mean(a) - mean(b)`` against 0 (unequal variances, no pairing)."""
    x, y = _finite("a", a), _finite("b", b)
    if x.size < 2 or y.size < 2:
        raise ValueError(
            f"`a` and `b` need 2 values each for a spread. Received: {x.size} and {y.size} values"
        )
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    if se == 0:
        df = float(x.size + y.size - 2)
    else:
        df = float((va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)))
    return _result(float(x.mean() - y.mean()), se, df, "welch", (x.size, y.size), level)


def _result(
    difference: float, se: float, df: float, kind: str, n: tuple[int, int], level: float
) -> TTest:
    if not 0.0 < level < 1.0:
        raise ValueError(f"`level` must be in (0, 1). Received: level={level!r}")
    if se == 0:
        p = 1.0 if difference == 0 else 0.0
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return TTest(difference, difference, difference, t, df, p, kind, n, level)
    t = difference / se
    low, high = _interval(difference, se, df, level)
    return TTest(difference, low, high, t, df, min(1.0, 2.0 * t_sf(abs(t), df)), kind, n, level)
