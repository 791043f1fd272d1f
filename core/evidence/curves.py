"""Training curves: each run's history.csv as long rows, one per run x epoch x metric x
split, which a plotting library can facet and colour directly; smoothing of those curves.
Nothing is interpolated or invented: a metric a run did not record is simply absent.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pandas as pd

from core.files import RunFileError
from core.runs.record import Run

TRAIN = "train"
HELD_OUT = "held-out"
SPLITS = (TRAIN, HELD_OUT)
TIME_COLUMNS = ("epoch", "seconds", "elapsed")
LONG_COLUMNS = ("run_id", "epoch", "elapsed", "metric", "split", "value")


def split_metric(column: str) -> tuple[str, str]:
    """('held-out', 'loss') for 'val_loss', ('train', 'pitch_accuracy') for 'pitch_accuracy'."""
    if column.startswith("val_"):
        return HELD_OUT, column[len("val_"):]
    return TRAIN, column


def metric_column(metric: str, split: str) -> str:
    """The history.csv column of a metric on a split (inverse of `split_metric`)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return f"val_{metric}" if split == HELD_OUT else metric


def history_long(history: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """One run's history as long rows: run_id, epoch, elapsed, metric, split, value.

    `elapsed` is the wall time in seconds since training began at the end of the epoch
    (from the `elapsed` column, else the running sum of `seconds`, else NaN). Missing
    values (a metric not measured that epoch) are dropped, never filled.
    """
    if history is None or history.empty:
        return pd.DataFrame(columns=list(LONG_COLUMNS))
    frame = history.copy()
    if "elapsed" not in frame:
        frame["elapsed"] = frame["seconds"].cumsum() if "seconds" in frame else math.nan
    metrics = [c for c in frame.columns if c not in TIME_COLUMNS]
    if not metrics:
        return pd.DataFrame(columns=list(LONG_COLUMNS))
    long = frame.melt(id_vars=["epoch", "elapsed"], value_vars=metrics, var_name="column",
                      value_name="value").dropna(subset=["value"])
    split_names = {c: split_metric(c) for c in metrics}
    long["split"] = long["column"].map(lambda c: split_names[c][0])
    long["metric"] = long["column"].map(lambda c: split_names[c][1])
    long.insert(0, "run_id", run_id)
    long = long[list(LONG_COLUMNS)].astype({"epoch": int, "elapsed": float, "value": float})
    return long.sort_values(["metric", "split", "epoch"], kind="stable").reset_index(drop=True)


def histories_long(histories: Mapping[str, pd.DataFrame],
                   settings: pd.DataFrame | None = None,
                   columns: Sequence[str] = ("model", "part", "cell", "label")) -> pd.DataFrame:
    """Long rows of several runs (`histories` maps run_id -> history frame), with the
    run's settings (`settings`: a runs table with a run_id column, e.g. list_runs) joined
    on so plots can facet by cell or model."""
    parts = [history_long(h, run_id) for run_id, h in histories.items()]
    parts = [p for p in parts if len(p)]
    long = pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame(columns=list(LONG_COLUMNS))
    if settings is not None and len(settings):
        keep = ["run_id", *[c for c in columns if c in settings.columns]]
        long = long.merge(settings[keep].drop_duplicates("run_id"), on="run_id", how="left")
    return long


def load_histories_long(run_dirs: Iterable[Path | str],
                        settings: pd.DataFrame | None = None) -> tuple[pd.DataFrame,
                                                                        dict[str, str]]:
    """Read each run's history.csv: (long table, {run_id: error}) for those unreadable."""
    histories, errors = {}, {}
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        try:
            histories[run_dir.name] = Run(run_dir).history
        except RunFileError as exc:
            errors[run_dir.name] = str(exc)
    return histories_long(histories, settings), errors


def smooth(long: pd.DataFrame, method: str = "ema", amount: float = 0.0) -> pd.DataFrame:
    """Smoothed curves: `value` replaced, the measured value kept in `raw`.

    method "ema": exponential moving average with weight `amount` in [0, 1) on the past
    (TensorBoard's, bias-corrected so the first point is the first value); "rolling": the
    mean of the last `amount` epochs (an integer >= 1). amount 0 (or 1 for rolling) leaves
    the curves as measured. Each run x metric x split is smoothed on its own, in epoch order.
    """
    out = long.copy()
    out["raw"] = out["value"] if "value" in out else pd.Series(dtype=float)
    if out.empty:
        return out
    if method == "ema":
        if not 0 <= amount < 1:
            raise ValueError(f"ema weight must be in [0, 1), got {amount}")
        if amount == 0:
            return out
    elif method == "rolling":
        if amount < 1 or int(amount) != amount:
            raise ValueError(f"rolling window must be a whole number >= 1, got {amount}")
        if amount == 1:
            return out
    else:
        raise ValueError(f"method must be 'ema' or 'rolling', got {method!r}")
    out = out.sort_values(["run_id", "metric", "split", "epoch"], kind="stable")
    groups = out.groupby(["run_id", "metric", "split"], sort=False)["raw"]
    if method == "ema":  # TensorBoard's smoothing is exactly pandas' bias-corrected ewm
        out["value"] = groups.transform(lambda s: s.ewm(alpha=1 - amount, adjust=True).mean())
    else:
        out["value"] = groups.transform(lambda s: s.rolling(int(amount), min_periods=1).mean())
    return out.reset_index(drop=True)
