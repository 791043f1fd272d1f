"""Runs grouped by setting (every TrainConfig field but seed and label): counts, spreads, the
per-epoch bands of a seed group's curves, and the named seed groups the Compare page draws
as one mean curve inside its band.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from core.evidence.curves import TIME_COLUMNS, smooth, split_metric
from core.evidence.experiments import seed_label_base
from core.nets.config import INT_FIELDS, SETTING_FIELDS
from core.runs.record import Run

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
    histories = [Run(d).history for d in run_dirs]
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
    way core.evidence.curves names metrics and splits, ready to draw a mean line inside a band.

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


SEED_GROUP_COLUMNS = ("group", "cell", "model", "n", "run_ids")
BAND_KEYS = ("group", "cell", "model", "metric", "split", "epoch", "seeds")


def seed_groups(table: pd.DataFrame, run_ids: Sequence[str]) -> pd.DataFrame:
    """The chosen runs grouped by setting (group_runs over every state, so a run still
    training joins its group): one row per group with a unique name, cell, model, n and
    run ids.

    `table` is core.runs.listing.runs_table. A group is named by its runs' common label
    without "seed i of k" (else by its shape: "LSTM 2x64, model 1 lead"), followed by how
    many seeds it holds; two groups that would read the same are numbered.
    """
    table = table[table["run_id"].isin(run_ids)]
    states = tuple(table["state"].dropna().unique()) if "state" in table else ()
    groups = group_runs(table, metrics=(), states=states)
    if groups.empty:
        return pd.DataFrame(columns=list(SEED_GROUP_COLUMNS))
    labels = table.set_index("run_id")["label"] if "label" in table else pd.Series(dtype=str)
    names = [_group_name(row, labels) for _, row in groups.iterrows()]
    groups["group"] = [f"{name} · {n} seeds" if n > 1 else f"{name} · 1 run"
                       for name, n in zip(names, groups["n"])]
    repeated = groups["group"].duplicated(keep=False)
    if repeated.any():
        groups.loc[repeated, "group"] = [f"{g} #{i + 1}" for i, g in
                                         enumerate(groups.loc[repeated, "group"])]
    groups["cell"] = groups["cell"].fillna("?") if "cell" in groups else "?"
    if "model" not in groups:
        groups["model"] = 1
    return groups[list(SEED_GROUP_COLUMNS)]


def _group_name(row: pd.Series, labels: pd.Series) -> str:
    """The runs' shared label without its seed suffix, else the setting's shape."""
    bases = {seed_label_base(str(labels.get(r) or "")) for r in row["run_ids"]}
    base = bases.pop() if len(bases) == 1 else ""
    return base or (f"{str(row.get('cell', '?')).upper()} {row.get('layers', '?')}"
                    f"×{row.get('units', '?')}, model {row.get('model', '?')} "
                    f"{row.get('part', '')}").strip()


def group_bands(groups: pd.DataFrame, runs_root: Path | str, spread: str = "minmax",
                smoothing: tuple[str, float] | None = None,
                bands_of: Callable[[tuple[Path, ...]], pd.DataFrame] = curve_bands
                ) -> pd.DataFrame:
    """Long rows of every seed group's mean and band (bands_long of curve_bands), with the
    group's name, cell and model, optionally smoothed (core.evidence.curves.smooth applied
    to the mean, low and high each as their own curve).

    `bands_of` reads one group's curve_bands; a caller that caches reads passes its own.
    """
    parts = []
    for row in groups.itertuples(index=False):
        dirs = tuple(Path(runs_root) / r for r in row.run_ids)
        long = bands_long(bands_of(dirs), spread)
        if len(long):
            parts.append(long.assign(group=row.group, cell=row.cell, model=row.model))
    if not parts:
        return pd.DataFrame(columns=[*BAND_KEYS, "mean", "low", "high"])
    bands = pd.concat(parts, ignore_index=True)
    return _smooth_bands(bands, smoothing) if smoothing else bands


def _smooth_bands(bands: pd.DataFrame, smoothing: tuple[str, float]) -> pd.DataFrame:
    melted = bands.melt(id_vars=list(BAND_KEYS), value_vars=["mean", "low", "high"],
                        var_name="stat")
    melted["run_id"] = melted["group"] + "\x00" + melted["stat"]
    melted = smooth(melted, *smoothing)
    smoothed = melted.pivot_table(index=list(BAND_KEYS), columns="stat",
                                  values="value").reset_index()
    smoothed.columns.name = None
    return smoothed
