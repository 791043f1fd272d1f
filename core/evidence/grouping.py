"""Runs grouped by setting (every TrainConfig field but seed and label): counts, spreads, and
the per-epoch bands of a seed group's curves.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from core.evidence.curves import TIME_COLUMNS, split_metric
from core.nets.config import INT_FIELDS, SETTING_FIELDS
from core.runs.history import read_history

GROUP_METRICS = ("best_val_loss", "final_loss")
STATISTICS = ("mean", "std", "min", "max")


def group_runs(frame: pd.DataFrame, metrics: Sequence[str] = GROUP_METRICS,
               states: Sequence[str] = ("finished",)) -> pd.DataFrame:
    """One row per setting: n runs, distinct seeds, parameters, mean/std/min/max of each
    metric, and the run ids.

    `frame` is list_runs or runs_table output; settings are told apart by whichever
    TrainConfig fields it has (runs_table has them all). Only runs in `states` count: a
    cancelled or failed run stopped early and its loss is not comparable.
    """
    runs = frame[frame["state"].isin(states)] if "state" in frame else frame
    runs = _whole_numbers(runs.assign(**{m: runs.get(m, np.nan) for m in metrics},
                                      params=runs.get("params", np.nan)))
    keys = [c for c in SETTING_FIELDS if c in runs]
    spec = {f"{m}_{s}": (m, s) for m in metrics for s in STATISTICS}
    columns = [*keys, "n", "seeds", "params", *spec, "run_ids"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    grouped = runs.groupby(keys, dropna=False, sort=True).agg(
        n=("run_id", "size"), seeds=("seed", "nunique"), params=("params", "max"), **spec,
        run_ids=("run_id", list))
    return grouped.reset_index()[columns]


def _whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer settings read back as floats when a broken run left a gap in the column."""
    whole = {c: "int64" for c in INT_FIELDS
             if c in frame and frame[c].notna().all() and frame[c].dtype != "int64"}
    return frame.astype(whole) if whole else frame


def curve_bands(run_dirs: Iterable[Path | str], columns: Sequence[str] | None = None
                ) -> pd.DataFrame:
    """Per epoch, mean/std/min/max across runs of each loss and accuracy column of their
    history.csv (the spread bands of a seed group). `seeds` counts the runs that reached
    the epoch: where it drops, the band describes fewer runs."""
    histories = [read_history(Path(d)) for d in run_dirs]
    histories = [h for h in histories if not h.empty and "epoch" in h]
    if not histories:
        return pd.DataFrame(columns=["epoch", "seeds"])
    data = pd.concat(histories, ignore_index=True)
    metrics = list(columns) if columns else [
        c for c in data if c not in TIME_COLUMNS and c.endswith(("loss", "accuracy"))]
    bands = data.groupby("epoch")[metrics].agg(list(STATISTICS))
    bands.columns = [f"{m}_{s}" for m, s in bands.columns]
    bands.insert(0, "seeds", data.groupby("epoch").size())
    return bands.reset_index()


SPREADS = ("minmax", "std")
BAND_COLUMNS = ("epoch", "seeds", "metric", "split", "mean", "low", "high")


def bands_long(bands: pd.DataFrame, spread: str = "minmax") -> pd.DataFrame:
    """curve_bands output as long rows (epoch, seeds, metric, split, mean, low, high), the
    way core.comparison names metrics and splits, ready to draw a mean line inside a band.

    spread "minmax": the band runs from the lowest to the highest seed; "std": mean -/+ one
    sample standard deviation (zero width where a single run reached the epoch).
    """
    if spread not in SPREADS:
        raise ValueError(f"spread must be one of {SPREADS}, got {spread!r}")
    columns = [c[: -len("_mean")] for c in bands.columns if c.endswith("_mean")]
    rows = []
    for column in columns:
        mean = bands[f"{column}_mean"]
        if spread == "std":
            std = bands[f"{column}_std"].fillna(0.0)
            low, high = mean - std, mean + std
        else:
            low, high = bands[f"{column}_min"], bands[f"{column}_max"]
        split, metric = split_metric(column)
        rows.append(pd.DataFrame({"epoch": bands["epoch"], "seeds": bands["seeds"],
                                  "metric": metric, "split": split, "mean": mean,
                                  "low": low, "high": high}))
    if not rows:
        return pd.DataFrame(columns=list(BAND_COLUMNS))
    long = pd.concat(rows, ignore_index=True).dropna(subset=["mean"])
    return long.astype({"epoch": int, "seeds": int}).reset_index(drop=True)
