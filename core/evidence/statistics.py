"""Welch's comparison of two samples' means: t, Welch-Satterthwaite degrees of freedom, the
confidence interval of the difference and the two-sided p-value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), by the continued fraction on whichever side converges fast."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float, max_terms: int = 500) -> float:
    """The incomplete beta's continued fraction by the modified Lentz method."""
    tiny = 1e-300

    def nonzero(v: float) -> float:
        return v if abs(v) > tiny else tiny

    c, d = 1.0, 1.0 / nonzero(1.0 - (a + b) * x / (a + 1))
    h = d
    for m in range(1, max_terms + 1):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        for coefficient in (even, odd):
            d = 1.0 / nonzero(1.0 + coefficient * d)
            c = nonzero(1.0 + coefficient / c)
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for x={x}, a={a}, b={b}")


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` (not necessarily whole) degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_beta(df / (df + t * t), df / 2, 0.5)
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on the CDF (monotonic, so it cannot miss)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < p:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if student_t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


@dataclass(frozen=True)
class Welch:
    """Welch's comparison of mean(x) - mean(y) without assuming equal variances."""

    n_x: int
    n_y: int
    mean_x: float
    mean_y: float
    difference: float
    t: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


def welch(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Welch:
    """Welch's t statistic, Welch-Satterthwaite degrees of freedom, the `level` confidence
    interval of mean(x) - mean(y) and the two-sided p-value; each sample needs >= 2 values."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("Welch's test needs at least two values on each side")
    vx, vy = float(x.var(ddof=1)) / len(x), float(y.var(ddof=1)) / len(y)
    difference = float(x.mean() - y.mean())
    se = math.sqrt(vx + vy)
    if se == 0.0:  # identical values within each side: the difference is exact
        df = float(len(x) + len(y) - 2)
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        low = high = difference
    else:
        df = (vx + vy) ** 2 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1))
        t = difference / se
        margin = t_quantile(0.5 + level / 2, df) * se
        low, high = difference - margin, difference + margin
    p = min(1.0, 2.0 * (1.0 - student_t_cdf(abs(t), df)))
    return Welch(len(x), len(y), float(x.mean()), float(y.mean()), difference, t, df,
                 low, high, p)
