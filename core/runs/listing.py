"""Every run directory as one table row: state, settings, final and best metrics; a broken
run is a row that says so. Each run's files are read once, through core.runs.record.Run.
Also filters of that table, short unique labels for legends, and the runs folder's
signature, which says when any of it changed without opening a file.
"""
from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from core.files import RunError
from core.nets.config import SETTING_FIELDS
from core.runs.history import HISTORY, rising_note
from core.runs.record import CONFIG, Run
from core.runs.status import CANCEL_FILE, STATUS


def filter_runs(runs: pd.DataFrame, **choices: Iterable[Any] | None) -> pd.DataFrame:
    """Rows whose column is one of the chosen values, for each column given (model=[1],
    cell=['gru'], state=['finished', 'running'], ...); None or empty keeps every row."""
    mask = pd.Series(True, index=runs.index)
    for column, values in choices.items():
        values = list(values or [])
        if not values:
            continue
        if column not in runs:
            return runs.iloc[0:0]
        mask &= runs[column].isin(values)
    return runs[mask]


def _dated_id(run_id: str) -> tuple[str, str] | None:
    """A run id as new_run_id writes it ('20261207-160738-m1-lead-lstm-1x16-s0') split into
    its clock and the rest ('16:07:38', 'm1-lead-lstm-1x16-s0'); None for any other id."""
    parts = run_id.split("-", 2)
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and len(parts[1]) == 6:
        return f"{parts[1][:2]}:{parts[1][2:4]}:{parts[1][4:]}", parts[2]
    return None


def _label(row: pd.Series) -> str | None:
    label = row.get("label")
    return label.strip() if isinstance(label, str) and label.strip() else None


def run_name(row: pd.Series) -> str:
    """A run's name in a table: its label, else its id without the date
    ('m1-lead-lstm-1x16-s0'), else its id."""
    dated = _dated_id(str(row["run_id"]))
    return _label(row) or (dated[1] if dated else str(row["run_id"]))


def local_times(stamps: pd.Series) -> pd.Series:
    """ISO stamps (UTC, as runs and samples record them) as this machine's local date and
    time, for a reader; an unreadable stamp is missing."""
    parsed = pd.to_datetime(stamps, errors="coerce", utc=True)
    return parsed.dt.tz_convert(datetime.now().astimezone().tzinfo).dt.tz_localize(None)


def run_labels(runs: pd.DataFrame) -> dict[str, str]:
    """Short unique names for plot legends: the run's label, else its id without the date
    ('m1-lead-lstm-1x16-s0 16:21:24'); the full id wherever two would read the same."""
    labels: dict[str, str] = {}
    for _, row in runs.iterrows():
        run_id = str(row["run_id"])
        dated = _dated_id(run_id)
        short = f"{dated[1]} {dated[0]}" if dated else run_id
        label = _label(row)
        labels[run_id] = f"{label} ({short})" if label else short
    counts = pd.Series(list(labels.values())).value_counts()
    return {k: (v if counts[v] == 1 else k) for k, v in labels.items()}


SETTING_COLUMNS = ("label", "model", "part", "cell", "units", "layers", "dropout_layers",
                   "window", "batch_size", "epochs", "learning_rate", "embedding_dim", "seed",
                   "objective", "conditioned", "corpus")
TIME_COLUMNS = ("epoch", "seconds", "elapsed")


def run_dirs(root: Path | str) -> list[Path]:
    """The run directories under `root` in name (= creation) order; hidden entries (the
    worker's lock and log) are not runs."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


# Files whose changes mean a run's row in the runs table changed.
ROW_FILES = (STATUS, HISTORY, CONFIG, CANCEL_FILE)


def runs_signature(root: Path | str) -> tuple:
    """A cheap fingerprint of the runs folder: names and mtimes of each run's small files
    (ROW_FILES), for caches of the runs table.

    Only `stat` calls (no file is opened), so 200 runs cost a few milliseconds; any epoch
    written, state changed or run added/removed changes it.
    """
    root = Path(root)
    if not root.is_dir():
        return ()
    signature = []
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            stamps = []
            for name in ROW_FILES:
                try:
                    stamps.append(os.stat(os.path.join(entry.path, name)).st_mtime_ns)
                except OSError:
                    stamps.append(0)
            signature.append((entry.name, *stamps))
    return tuple(sorted(signature))


def run_row(run: Run) -> dict[str, Any]:
    """One run as a table row: state, every TrainConfig field, parameters, the sweep it is
    a trial of ("" if none), the final and best metrics of its history, and a note (where it resumed, a cut-short last history
    line left out). A run whose status.json, config.json or history.csv cannot be read is a
    row in state "broken" that says why, never an exception."""
    status = run.status
    row: dict[str, Any] = {"run_id": run.run_id, "state": status.get("state"),
                           "error": status.get("error") or "", "note": ""}
    try:
        settings = run.settings
        row.update(settings, extra=json.dumps(settings["extra"] or {}, sort_keys=True),
                   params=run.record.get("parameters"), created=run.record.get("created"),
                   sweep=str(run.sweep.get("id", "")))
        row.update(_history_summary(run.history_columns))
        row["note"] = _note(run)
    except RunError as exc:
        row.update(state="broken", error=str(exc))
    return row


def _note(run: Run) -> str:
    """What a reader should know beyond the state: where the run was resumed, that it
    stopped early or its loss keeps rising, and a last history line a crash cut short
    (left out)."""
    notes = [f"resumed at epoch {r['epoch']}" for r in run.record.get("resumes") or []
             if isinstance(r, dict) and "epoch" in r]
    stopped = run.status.get("stopped_early")
    early = f"stopped early after epoch {stopped}: no better held-out loss for " \
            f"{run.config.early_stopping} epochs" if stopped else ""
    return "; ".join(filter(None, [", ".join(notes), early, rising_note(run.history_columns),
                                   run.history_columns.note]))


def _history_summary(history: dict[str, np.ndarray]) -> dict[str, Any]:
    """epochs_done, final_<metric> of the last epoch, best_<loss> (lowest, NaN ignored),
    best_<accuracy> (highest) and the training seconds of all epochs."""
    epochs = len(history["epoch"])
    summary: dict[str, Any] = {"epochs_done": epochs}
    if not epochs:
        return summary
    for name, values in history.items():
        if name not in TIME_COLUMNS:
            summary[f"final_{name}"] = float(values[-1])
        if name.endswith(("loss", "accuracy")):
            seen = values[~np.isnan(values)]
            best = seen.min if name.endswith("loss") else seen.max
            summary[f"best_{name}"] = float(best()) if len(seen) else float("nan")
    summary["seconds"] = float(np.nansum(history["seconds"])) if "seconds" in history else 0.0
    return summary


def runs_table(root: Path | str = "runs") -> pd.DataFrame:
    """One row per run directory (`run_row`), each run's files read once: settings, state,
    final and best metrics, and every TrainConfig field, so that settings which differ only
    in a field the short list leaves out (dropout rate, max pieces, ...) stay apart."""
    rows = [run_row(Run(d)) for d in run_dirs(root)]
    if not rows:
        return pd.DataFrame(columns=["run_id", "state", "error", "note", *SETTING_COLUMNS])
    return pd.DataFrame(rows)


def list_runs(root: Path | str = "runs") -> pd.DataFrame:
    """`runs_table` with the settings columns cut to SETTING_COLUMNS: the run lists of the
    pages and the CLI, which show the settings people choose most."""
    table = runs_table(root)
    hidden = [c for c in table.columns if c in SETTING_FIELDS and c not in SETTING_COLUMNS]
    return table.drop(columns=hidden)
