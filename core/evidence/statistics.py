"""Tests the verdict and the listening test rest on, through scipy.stats: Welch's comparison
of two samples' means (t, Welch-Satterthwaite degrees of freedom, the confidence interval of
the difference, the two-sided p-value) and the exact binomial test.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


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
    interval of mean(x) - mean(y) and the two-sided p-value; each sample needs >= 2 values.

    Two samples without spread (every seed gave the same value on each side) leave nothing
    to estimate: scipy answers NaN there, this says the difference is exact (an interval of
    one point, p 1 when the means agree and 0 when they differ)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("Welch's test needs at least two values on each side")
    mean_x, mean_y = float(x.mean()), float(y.mean())
    difference = mean_x - mean_y
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return Welch(len(x), len(y), mean_x, mean_y, difference, t,
                     float(len(x) + len(y) - 2), difference, difference,
                     1.0 if difference == 0 else 0.0)
    from scipy import stats  # loaded on first use: pages that never test pay nothing

    result = stats.ttest_ind(x, y, equal_var=False)
    interval = result.confidence_interval(confidence_level=level)
    return Welch(len(x), len(y), mean_x, mean_y, difference, float(result.statistic),
                 float(result.df), float(interval.low), float(interval.high),
                 float(result.pvalue))


def binomial_test(successes: int, trials: int, p: float = 0.5) -> float:
    """Two-sided exact p-value of `successes` in `trials` when each succeeds with chance `p`
    (a listener telling two sources apart no better than a coin: p = 0.5)."""
    if not 0 <= successes <= trials or trials < 1:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes} "
                         f"of {trials}")
    from scipy import stats

    return float(stats.binomtest(successes, trials, p).pvalue)
