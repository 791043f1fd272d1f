"""How long the queue will take: the running run's own estimate, plus each queued run's
epochs times the seconds per epoch that finished runs of the same shape took.

Only measured times are used: a queued setting that never trained before has no estimate and
is counted as unknown, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

# Settings that decide how long an epoch takes (with the machine, which is the same).
SHAPE = ("model", "part", "cell", "units", "layers", "window", "batch_size", "objective",
         "input_encoding", "conditioned", "corpus", "max_pieces", "chord_mode",
         "embedding_dim")


@dataclass(frozen=True)
class QueueEstimate:
    """Seconds until every queued and running run has finished, for the runs that have an
    estimate (`known`); `unknown` runs have none."""

    seconds: float
    known: int
    unknown: int


def _shape(row: Mapping[str, Any], columns: list[str]) -> tuple:
    return tuple(str(row.get(c)) for c in columns)


def epoch_seconds(runs: pd.DataFrame) -> dict[tuple, float]:
    """{shape: median seconds per epoch} over runs that finished at least one epoch."""
    columns = [c for c in SHAPE if c in runs.columns]
    done = runs[(pd.to_numeric(runs.get("epochs_done"), errors="coerce") > 0)
                & (pd.to_numeric(runs.get("seconds"), errors="coerce") > 0)] \
        if {"epochs_done", "seconds"} <= set(runs.columns) else runs.iloc[0:0]
    per_shape: dict[tuple, list[float]] = {}
    for _, row in done.iterrows():
        per_shape.setdefault(_shape(row, columns), []).append(
            float(row["seconds"]) / float(row["epochs_done"]))
    return {k: float(np.median(v)) for k, v in per_shape.items()}


def queue_estimate(runs: pd.DataFrame, statuses: Mapping[str, Mapping[str, Any]]) -> QueueEstimate:
    """The queue's remaining time. `runs`: a runs table (core.runs.listing.runs_table, so
    every setting is there); `statuses`: status.json of each queued or running run by id."""
    columns = [c for c in SHAPE if c in runs.columns]
    per_epoch = epoch_seconds(runs)
    seconds, known, unknown = 0.0, 0, 0
    for _, row in runs[runs["run_id"].isin(list(statuses))].iterrows():
        status = statuses[row["run_id"]]
        done = int(status.get("epoch") or 0)
        epochs = int(status.get("epochs") or row.get("epochs") or 0)
        if status.get("state") == "running" and done and status.get("eta_seconds") is not None:
            seconds, known = seconds + float(status["eta_seconds"]), known + 1
        elif _shape(row, columns) in per_epoch:
            seconds += per_epoch[_shape(row, columns)] * max(epochs - done, 0)
            known += 1
        else:
            unknown += 1
    return QueueEstimate(seconds, known, unknown)
