"""Student's t for a few seeds: the paired test by seed, Welch's test, their intervals, the
prediction interval for one new run, Holm's correction for a family of tests, and the seeds a
comparison needs.

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

__all__ = [
    "TTest",
    "t_sf",
    "t_quantile",
    "paired_t_test",
    "welch_t_test",
    "prediction_interval",
    "prediction_interval_two_runs",
    "holm",
    "seeds_for_power",
]


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


# Past this many degrees of freedom the continued fraction loses digits (df / (df + t^2) rounds
# to 1) while Student's t is the normal distribution to within about 1e-7.
_NORMAL_DF = 1e7


def _is_number(value: object) -> bool:
    """A Python or numpy real number; bools are not."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(
        value, (int, float, np.integer, np.floating)
    )


def _check_df(df: float) -> float:
    if not _is_number(df):
        raise TypeError(f"`df` must be a number > 0. Received: df={df!r}")
    if not df > 0:  # NaN too
        raise ValueError(f"`df` must be > 0 (infinity for the normal). Received: df={df!r}")
    return float(df)


def _sf(t: float, df: float) -> float:
    if df > _NORMAL_DF:
        return 0.5 * math.erfc(t / math.sqrt(2.0))
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t)) if math.isfinite(t) else 0.0
    return tail if t >= 0 else 1.0 - tail


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom (``inf``: the normal)."""
    df = _check_df(df)
    if not _is_number(t):
        raise TypeError(f"`t` must be a number. Received: t={t!r}")
    if math.isnan(t):
        raise ValueError("`t` must be a number, not NaN.")
    return _sf(float(t), df)


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on :func:`t_sf`, to 1e-12)."""
    df = _check_df(df)
    if not _is_number(p):
        raise TypeError(f"`p` must be a number in (0, 1). Received: p={p!r}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"`p` must be in (0, 1). Received: p={p!r}")
    if p == 0.5:
        return 0.0
    # The upper tail's probability, kept as given: 1 - p would round a tiny p to 0.
    upper, sign = (1.0 - p, 1.0) if p > 0.5 else (float(p), -1.0)
    low, high = 0.0, 1.0
    while _sf(high, df) > upper:
        high *= 2.0
    if _sf(high, df) == 0.0:
        # The tail underflowed (t * t overflows first): the quantile lies beyond what the
        # arithmetic resolves, and bisection would return wherever that happened.
        raise ValueError(
            f"`p` is too close to 0 or 1: its quantile for df={df:g} is beyond float range. "
            f"Received: p={p!r}"
        )
    for _ in range(2000):
        mid = 0.5 * (low + high)
        if _sf(mid, df) > upper:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return sign * 0.5 * (low + high)


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


# Squares of the values must stay finite for the variance: far beyond any accuracy.
_LIMIT = 1e150


def _finite(name: str, values: Sequence[float]) -> np.ndarray:
    message = (
        f"`{name}` must be a 1-D sequence of finite numbers within ±{_LIMIT:g}. "
        f"Received: {values!r:.80}"
    )
    if isinstance(values, (str, bytes)):
        raise TypeError(message)
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(message) from None
    if array.ndim != 1 or not np.all(np.abs(array) <= _LIMIT):  # NaN fails too
        raise ValueError(message)
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


def prediction_interval(
    differences: Sequence[float], level: float = 0.95
) -> tuple[float, float, float]:
    """Where one new run's difference falls (``mean``, ``low``, ``high``), from paired
    differences over seeds: ``mean ± t(df) · sd · sqrt(1 + 1/n)``.

    This is the interval to set a single run (one of the paper's) against: a confidence
    interval is for the mean of many runs, far narrower than where one run lands, and an sd
    estimated from three seeds is itself uncertain (t with 2 degrees of freedom, not the
    normal)."""
    d = _finite("differences", differences)
    if d.size < 2:
        raise ValueError(f"`differences` needs 2 values for a spread. Received: {d.size}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"`level` must be in (0, 1). Received: level={level!r}")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    half = t_quantile(0.5 + level / 2.0, d.size - 1) * sd * math.sqrt(1.0 + 1.0 / d.size)
    return mean, mean - half, mean + half


def prediction_interval_two_runs(
    a: Sequence[float], b: Sequence[float], level: float = 0.95
) -> tuple[float, float, float]:
    """Where the difference of one new run of ``a`` and one new run of ``b`` falls (``mean``,
    ``low``, ``high``), the two runs not assumed to share a seed:
    ``mean(a) - mean(b) ± t(df) · sqrt(sd_a² (1 + 1/n_a) + sd_b² (1 + 1/n_b))``, with the
    cautious ``df = min(n_a, n_b) - 1``. The interval to set another lab's single pair of runs
    against (the paper's one run per row)."""
    x, y = _finite("a", a), _finite("b", b)
    if x.size < 2 or y.size < 2:
        raise ValueError(f"`a` and `b` need 2 values each. Received: {x.size} and {y.size}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"`level` must be in (0, 1). Received: level={level!r}")
    spread = math.sqrt(x.var(ddof=1) * (1.0 + 1.0 / x.size) + y.var(ddof=1) * (1.0 + 1.0 / y.size))
    df = min(x.size, y.size) - 1
    mean = float(x.mean() - y.mean())
    half = t_quantile(0.5 + level / 2.0, df) * spread
    return mean, mean - half, mean + half


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (same order as given): each tested
    against ``alpha`` after adjustment keeps the family's chance of any false "difference" at
    ``alpha``, without assuming the tests independent."""
    p = _finite("p_values", p_values)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"`p_values` must lie in [0, 1]. Received: {list(p_values)!r:.80}")
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (p.size - rank) * p[k]))
        adjusted[k] = running
    return adjusted.tolist()


def seeds_for_power(effect: float, sd: float, power: float = 0.8, level: float = 0.95) -> int:
    """Seeds a paired comparison needs to find a true difference ``effect`` with probability
    ``power`` at two-sided ``level``, when the seeds' differences spread with ``sd``: the
    smallest ``n`` with ``t(1 - alpha/2, n - 1) + t(power, n - 1) <= |effect| · sqrt(n) / sd``
    (the usual ``n = ((z_(1-alpha/2) + z_power) · sd / effect)^2``, with Student's t for the
    few seeds)."""
    for name, value in (("effect", effect), ("sd", sd)):
        if not _is_number(value) or not math.isfinite(value):
            raise TypeError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    if effect == 0 or sd <= 0:
        raise ValueError(f"`effect` must be non-zero and `sd` > 0. Received: {effect!r}, {sd!r}")
    if not (0.0 < power < 1.0 and 0.0 < level < 1.0):
        raise ValueError(f"`power` and `level` must lie in (0, 1). Received: {power!r}, {level!r}")
    for n in range(2, 100_000):
        need = t_quantile(0.5 + level / 2.0, n - 1) + t_quantile(power, n - 1)
        if need <= abs(effect) * math.sqrt(n) / sd:
            return n
    raise ValueError(f"`effect` {effect!r} is too small against `sd` {sd!r}: 100,000 seeds.")
