"""Comparing two sets of pieces metric by metric: means, spreads and the overlapping area of
their density estimates (Yang & Lerch 2018; scipy's Gaussian KDE, Scott's bandwidth).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from scipy.stats import gaussian_kde

def _finite(sample: Sequence[float]) -> np.ndarray:
    values = np.asarray(sample, dtype=float).reshape(-1)
    return values[np.isfinite(values)]


def _kde(x: np.ndarray) -> gaussian_kde | None:
    """scipy's Gaussian KDE of a sample with Scott's bandwidth; None for a constant sample,
    whose covariance (and so bandwidth) is zero."""
    from scipy import stats  # loaded on first use: pages that import this pay nothing

    return stats.gaussian_kde(x, bw_method="scott") if np.ptp(x) > 0 else None


def _bandwidth(kde: gaussian_kde | None) -> float:
    """The kernel's standard deviation: the sample's std (ddof 1) times Scott's factor."""
    return float(np.sqrt(kde.covariance[0, 0])) if kde is not None else 0.0


def _density(kde: gaussian_kde | None, x: np.ndarray, bandwidth: float,
             grid: np.ndarray) -> np.ndarray:
    """A sample's density on `grid`: its KDE, or for a constant sample one Gaussian kernel of
    the (borrowed) `bandwidth` at its value."""
    if kde is not None:
        return kde(grid)
    from scipy import stats

    return stats.norm.pdf(grid, x[0], bandwidth)


def overlapping_area(a: Sequence[float], b: Sequence[float]) -> float:
    """Overlap (0..1) of two samples' Gaussian KDEs (Scott's bandwidth): integral of min(p, q).

    Non-finite values are dropped; NaN if a sample is then empty. A constant sample has no
    bandwidth of its own and borrows the other's, so a point mass still overlaps a spread;
    two constant samples overlap 1 if equal and 0 otherwise.
    """
    x, y = _finite(a), _finite(b)
    if not len(x) or not len(y):
        return math.nan
    kx, ky = _kde(x), _kde(y)
    if kx is None and ky is None:
        return 1.0 if np.allclose(x, y[0]) and np.allclose(y, x[0]) else 0.0
    bx, by = _bandwidth(kx), _bandwidth(ky)
    bx, by = bx or by, by or bx
    pad = 5 * max(bx, by)
    low, high = min(x.min(), y.min()) - pad, max(x.max(), y.max()) + pad
    points = int(np.clip((high - low) / (min(bx, by) / 8), 1024, 20000))
    grid = np.linspace(low, high, points)
    overlap = np.trapezoid(np.minimum(_density(kx, x, bx, grid), _density(ky, y, by, grid)),
                           grid)
    return float(np.clip(overlap, 0.0, 1.0))


def compare_distributions(generated: pd.DataFrame, reference: pd.DataFrame,
                          metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Per metric: mean and std of generated and reference pieces and their overlapping area.

    Inputs have one row per piece and one column per metric (e.g. from `piece_metrics`).
    Without `metrics`, the numeric columns both share are compared, in generated's order.
    """
    for name, table in (("generated", generated), ("reference", reference)):
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"{name} must be a DataFrame (one row per piece), "
                             f"got {type(table).__name__}")
    if metrics is None:
        metrics = [c for c in generated.columns if c in reference.columns
                   and pd.api.types.is_numeric_dtype(generated[c])
                   and pd.api.types.is_numeric_dtype(reference[c])]
        if not metrics:
            raise ValueError("generated and reference share no numeric metric column")
    else:
        for name, table in (("generated", generated), ("reference", reference)):
            missing = [m for m in metrics if m not in table.columns]
            if missing:
                raise ValueError(f"{name} lacks metric column(s) {', '.join(missing)}")
    rows: dict[str, Mapping[str, float]] = {}
    for metric in metrics:
        g = pd.to_numeric(generated[metric], errors="coerce")
        r = pd.to_numeric(reference[metric], errors="coerce")
        rows[metric] = {"generated_mean": g.mean(), "generated_std": g.std(),
                        "reference_mean": r.mean(), "reference_std": r.std(),
                        "overlapping_area": overlapping_area(g, r)}
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index.name = "metric"
    return result
