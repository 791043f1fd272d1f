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
# How a setting that tells groups apart is written in a legend (default: its name).
SETTING_WORDS = {"learning_rate": "lr", "batch_size": "batch", "dropout_layers": "dropout",
                 "dropout_rate": "dropout rate", "embedding_dim": "embedding",
                 "sequence_window": "training window", "lr_schedule": "schedule",
                 "early_stopping": "early stop", "clip_norm": "clip",
                 "key_normalisation": "key normalised", "transpose_augment": "transpose",
                 "bar_position": "bar position", "input_encoding": "encoding"}
NAMED = ("cell", "units", "layers", "model", "part")  # in every name, or drawn apart


def fair_pairs(lstms: pd.DataFrame, grus: pd.DataFrame,
               tolerance: float = 0.05) -> list[tuple[int, int, str]]:
    """(LSTM row, GRU row, kind) of every comparable pair of settings that differ only in
    cell and units: "equal units", or "equal parameters" where the units differ and the
    parameter counts are within `tolerance` (or within 1/units for a GRU too narrow for
    whole units to do better). Whole-array tests: hundreds of runs make tens of thousands
    of candidate pairs."""
    if lstms.empty or grus.empty:
        return []
    l_units = lstms["units"].to_numpy(float)[:, None]
    g_units = grus["units"].to_numpy(float)[None, :]
    l_params = pd.to_numeric(lstms["params"], errors="coerce").to_numpy(float)[:, None]
    g_params = pd.to_numeric(grus["params"], errors="coerce").to_numpy(float)[None, :]
    equal_units = l_units == g_units
    # One unit more or less moves a GRU's count by at most about params / units, so a narrow
    # GRU that fair_pair matched as closely as whole units allow still counts as matched.
    allowed = np.maximum(tolerance, 1.0 / g_units) * l_params
    with np.errstate(invalid="ignore"):
        equal_params = ~equal_units & (np.abs(g_params - l_params) <= allowed)
    found = [(int(i), int(j), "equal units") for i, j in zip(*np.nonzero(equal_units))]
    found += [(int(i), int(j), "equal parameters") for i, j in zip(*np.nonzero(equal_params))]
    return sorted(found)


def shared_settings(groups: pd.DataFrame) -> list[str]:
    """The settings an LSTM and a GRU must share to be compared: every one but cell and
    units."""
    return [k for k in SETTING_FIELDS if k in groups and k not in ("cell", "units")]


def seed_groups(table: pd.DataFrame, run_ids: Sequence[str]) -> pd.DataFrame:
    """The chosen runs grouped by setting (group_runs over every state, so a run still
    training joins its group): one row per group with a short unique name, cell, model, n
    and run ids.

    `table` is core.runs.listing.runs_table. A group is named by its setting, short enough
    for a legend entry: cell and units ('LSTM 128u', 'GRU 3×512u' where layers differ
    from 1), '(=params)' for a GRU as wide as an LSTM among them in parameters, and any
    other setting that differs between the groups ('lr 0.01'); labels are the runs' own
    and stay in the run table. Two groups that would read the same are numbered.
    """
    table = table[table["run_id"].isin(run_ids)]
    states = tuple(table["state"].dropna().unique()) if "state" in table else ()
    groups = group_runs(table, metrics=(), states=states)
    if groups.empty:
        return pd.DataFrame(columns=list(SEED_GROUP_COLUMNS))
    groups["group"] = _group_names(groups)
    repeated = groups["group"].duplicated(keep=False)
    if repeated.any():
        groups.loc[repeated, "group"] = [f"{g} #{i + 1}" for i, g in
                                         enumerate(groups.loc[repeated, "group"])]
    groups["cell"] = groups["cell"].fillna("?") if "cell" in groups else "?"
    if "model" not in groups:
        groups["model"] = 1
    return groups[list(SEED_GROUP_COLUMNS)]


def _group_names(groups: pd.DataFrame) -> list[str]:
    """Each group's short name (see seed_groups)."""
    def value(row: pd.Series, column: str, default: object = "?") -> object:
        found = row.get(column, default)
        return default if found is None or (isinstance(found, float) and np.isnan(found)) \
            else found

    layered = "layers" in groups and (groups["layers"].fillna(1) != 1).any()
    varying = [c for c in SETTING_FIELDS if c in groups and c not in NAMED
               and groups[c].astype(str).nunique() > 1]
    matched = _parameter_matched(groups)
    names = []
    for index, row in groups.iterrows():
        width = f"{value(row, 'layers')}×{value(row, 'units')}u" if layered \
            else f"{value(row, 'units')}u"
        name = f"{str(value(row, 'cell')).upper()} {width}"
        if index in matched:
            name += " (=params)"
        extra = [f"{SETTING_WORDS.get(c, c.replace('_', ' '))} {_setting_value(row[c])}"
                 for c in varying]
        names.append(", ".join([name, *extra]))
    return names


def _setting_value(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "on" if value else "off"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


def _parameter_matched(groups: pd.DataFrame) -> set:
    """Index labels of the GRU groups as wide as an LSTM group among them in parameters."""
    if not {"cell", "units", "params"} <= set(groups.columns):
        return set()
    shared = shared_settings(groups)
    matched = set()
    blocks = groups.groupby(shared, dropna=False, sort=False) if shared else [(None, groups)]
    for _, block in blocks:
        lstms, grus = block[block["cell"] == "lstm"], block[block["cell"] == "gru"]
        matched |= {grus.index[j] for _, j, kind in fair_pairs(lstms, grus)
                    if kind == "equal parameters"}
    return matched


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
