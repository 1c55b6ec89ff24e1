"""Replication statistics: t intervals, Welch intervals and replication advice.

Every replication is one independent observation of a KPI, so a mean over replications gets a
t interval with n − 1 degrees of freedom; for a target half-width h the smallest n with
t(n-1) · s / √n ≤ h is the replication advice.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

LEVEL = 0.95
MAX_ADVICE = 10_000_000


def t_halfwidth(sd: float, n: int, level: float = LEVEL) -> float:
    if n < 2 or not np.isfinite(sd):
        return float("nan")
    return float(_t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n))


@functools.lru_cache(maxsize=1024)
def _t_quantile(p: float, df: int) -> float:
    """Student's t quantile; a summary asks for the same few thousands of times (scipy: ~50 µs each)."""
    return stats.t.ppf(p, df)


def confidence_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean and t-based CI over replications (NaNs dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(x.mean())
    if n == 1:
        return mean, float("nan"), float("nan"), 1
    half = t_halfwidth(float(x.std(ddof=1)), n, level)
    return mean, mean - half, mean + half, n


def replications_needed(sd: float, n: int, target: float | None, level: float = LEVEL) -> float:
    """Smallest n whose t half-width is ≤ target, from the sample sd of ``n`` runs (NaN if unknown)."""
    if target is None or not np.isfinite(sd) or n < 2:
        return float("nan")
    if sd == 0:
        return 2.0
    z = stats.norm.ppf(0.5 + level / 2)
    m = max(2, math.ceil((z * sd / target) ** 2))
    while m < MAX_ADVICE and t_halfwidth(sd, m, level) > target:
        m = max(m + 1, math.ceil(m * 1.01))
    while m > 2 and t_halfwidth(sd, m - 1, level) <= target:
        m -= 1
    return float(m)


def welch_halfwidth(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> float:
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return float("nan")
    va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
    se = math.sqrt(va + vb)
    if se == 0:
        return 0.0
    df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    return float(stats.t.ppf(0.5 + level / 2, df) * se)
