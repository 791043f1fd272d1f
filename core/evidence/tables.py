"""The thesis's Tables 2 and 3 for any selection of runs (training and held-out), and the
numeric hyperparameter table behind a parallel-coordinates view.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.evidence.curves import HELD_OUT, SPLITS, TRAIN, metric_column, split_metric
from core.runs.history import SCORE_COLUMNS, epoch_scores

# The numeric hyperparameters of Table 1 (plus learning rate) for parallel coordinates.
HYPERPARAMETERS = ("units", "layers", "dropout_layers", "window", "batch_size",
                   "learning_rate")


# Metric columns of the summary tables, by model: (history metric, column title).
TABLE_METRICS = {
    1: (("loss", "loss"), ("accuracy", "accuracy"), ("note_accuracy", "note acc"),
        ("onset_accuracy", "onset acc")),
    2: (("loss", "loss"), ("pitch_accuracy", "pitch acc"),
        ("duration_accuracy", "duration acc")),
}
# Each model's table as the thesis numbers it, and what its columns are.
TABLE_TITLES = {1: ("Table 2", "Model 1: loss / accuracy / note and onset accuracy"),
                2: ("Table 3", "Model 2: loss / pitch accuracy / duration accuracy")}
SUMMARY_SETTINGS = ("label", "part", "cell", "layers", "units", "window", "batch_size")
# Short titles of every history metric, those of the tables first ("note acc", ...).
METRIC_SHORT = {**{m: t for metrics in TABLE_METRICS.values() for m, t in metrics},
                "learning_rate": "learning rate"}


def metric_title(column: str) -> str:
    """A history column in words: 'val_note_accuracy' -> 'held-out note acc', 'loss' ->
    'training loss' (never Keras's names in front of a reader)."""
    split, metric = split_metric(column)
    title = METRIC_SHORT.get(metric, metric.replace("_", " "))
    if not metric.endswith(("loss", "accuracy")):
        return title  # the learning rate: no split
    return f"held-out {title}" if split == HELD_OUT else f"training {title}"


def summary_table(histories: Mapping[str, pd.DataFrame], settings: pd.DataFrame,
                  model: int, at: str = "final") -> pd.DataFrame:
    """The thesis's Table 2 (model 1: loss, accuracy, and note and onset accuracy beside
    them) or Table 3 (model 2: loss, pitch accuracy, duration accuracy) for the given runs,
    on training AND held-out windows.

    `at` "final" reads the last finished epoch (as the thesis reports); "best" the run's
    best epoch (core.runs.history.epoch_scores: lowest held-out loss, training loss when
    nothing was held out). One row per run of
    that model with a history, in the order of `histories`; columns: run_id, the settings
    in SUMMARY_SETTINGS, epoch (the row's), epochs (finished), then each metric as
    "<title>" (train) and "held-out <title>".
    """
    if model not in TABLE_METRICS:
        raise ValueError(f"model must be 1 or 2, got {model!r}")
    if at not in ("final", "best"):
        raise ValueError(f"at must be 'final' or 'best', got {at!r}")
    by_id = settings.set_index("run_id") if len(settings) else settings
    rows = []
    for run_id, history in histories.items():
        if history is None or history.empty or run_id not in by_id.index:
            continue
        info = by_id.loc[run_id]
        if _as_int(info.get("model")) != model:
            continue
        row_index = len(history) - 1
        scores = epoch_scores(history)
        if at == "best" and np.isfinite(scores).any():
            row_index = int(np.argmin(scores))
        chosen = history.iloc[row_index]
        row: dict[str, Any] = {"run_id": run_id}
        row.update({k: info.get(k) for k in SUMMARY_SETTINGS})
        row.update(epoch=int(chosen["epoch"]), epochs=len(history))
        for metric, title in TABLE_METRICS[model]:
            for split in SPLITS:
                column = metric_column(metric, split)
                name = title if split == TRAIN else f"held-out {title}"
                row[name] = float(chosen[column]) if column in history else math.nan
        rows.append(row)
    titles = [t if s == TRAIN else f"held-out {t}" for _, t in TABLE_METRICS[model]
              for s in SPLITS]
    return pd.DataFrame(rows, columns=["run_id", *SUMMARY_SETTINGS, "epoch", "epochs",
                                       *titles])


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def hyperparameter_frame(runs: pd.DataFrame,
                         settings: Sequence[str] = HYPERPARAMETERS) -> pd.DataFrame:
    """The numeric settings of each run with a recorded loss, for parallel coordinates:
    run_id, `settings` (the Table 1 HYPERPARAMETERS unless a sweep names its own), cell as
    0 (lstm) / 1 (gru), model, and `best loss`: the best of the first of SCORE_COLUMNS a
    run has (core.runs.history: the lowest held-out loss, or the lowest training loss for a
    run that held nothing out; `loss_split` says which). Broken runs and runs with no
    finished epoch are left out."""
    columns = ["run_id", *settings, "cell", "model", "best loss", "loss_split"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    frame = runs.copy()
    held, train = (pd.to_numeric(frame.get(f"best_{c}", pd.Series(math.nan, frame.index)),
                                 errors="coerce") for c in SCORE_COLUMNS)
    frame["best loss"] = held.fillna(train)
    frame["loss_split"] = np.where(held.notna(), HELD_OUT, TRAIN)
    if "state" in frame:
        frame = frame[frame["state"] != "broken"]
    frame = frame[frame["best loss"].notna()].copy()
    frame["cell"] = frame["cell"].map({"lstm": 0, "gru": 1}) if "cell" in frame else math.nan
    for column in [*settings, "model"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce") if column in frame \
            else math.nan
    return frame[columns].reset_index(drop=True)
