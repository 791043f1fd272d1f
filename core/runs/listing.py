"""Every run directory as one row: settings, state, final and best metrics; a broken run is
a row that says so. Also filters and short unique labels for legends.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from core.nets.config import SETTING_FIELDS, TrainConfig
from core.runs.files import read_json
from core.runs.history import read_history_rows
from core.runs.record import read_status

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


def run_labels(runs: pd.DataFrame) -> dict[str, str]:
    """Short unique names for plot legends: the run's label, else its id without the date
    ('m1-lead-lstm-1x16-s0 16:21:24'); the full id wherever two would read the same."""
    labels: dict[str, str] = {}
    for _, row in runs.iterrows():
        run_id = str(row["run_id"])
        parts = run_id.split("-", 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and len(parts[1]) == 6:
            clock = f"{parts[1][:2]}:{parts[1][2:4]}:{parts[1][4:]}"
            short = f"{parts[2]} {clock}"
        else:
            short = run_id
        label = row.get("label")
        if isinstance(label, str) and label.strip():
            short = f"{label.strip()} ({short})"
        labels[run_id] = short
    counts = pd.Series(list(labels.values())).value_counts()
    return {k: (v if counts[v] == 1 else k) for k, v in labels.items()}


SETTING_COLUMNS = ("label", "model", "part", "cell", "units", "layers", "dropout_layers",
                   "window", "batch_size", "epochs", "learning_rate", "embedding_dim", "seed",
                   "objective", "conditioned", "corpus")


def _summary(run_dir: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"run_id": run_dir.name}
    status = read_status(run_dir)
    row.update(state=status.get("state"), error=status.get("error", ""))
    try:
        record = read_json(run_dir / "config.json")
        row.update({k: record["config"].get(k) for k in SETTING_COLUMNS})
        row.update(params=record.get("parameters"), created=record.get("created"))
    except (OSError, ValueError, KeyError) as exc:
        row.update(state="broken", error=f"config.json unreadable: {exc}")
        return row
    try:
        history = read_history_rows(run_dir)
    except (OSError, ValueError, csv.Error) as exc:
        row.update(state="broken", error=f"history.csv unreadable: {exc}")
        return row
    row["epochs_done"] = len(history)
    if history:
        last = history[-1]
        for key, value in last.items():
            if key not in ("epoch", "seconds", "elapsed"):
                row[f"final_{key}"] = value
        for key in [k for k in last if k.endswith("loss")]:
            values = [r[key] for r in history if r.get(key) == r.get(key)]
            row[f"best_{key}"] = min(values) if values else float("nan")
        row["seconds"] = sum(r.get("seconds", 0.0) for r in history)
    return row


def list_runs(root: Path | str = "runs") -> pd.DataFrame:
    """One row per run directory: settings, state, final and best metrics. A broken
    directory gives a row saying so rather than an exception."""
    root = Path(root)
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if root.exists() else []
    rows = [_summary(d) for d in dirs]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "state", *SETTING_COLUMNS])
    return frame


def runs_table(runs_root: Path | str = "runs") -> pd.DataFrame:
    """core.runs.list_runs plus every TrainConfig field of each run, so that settings which
    differ only in a field list_runs leaves out (dropout rate, max pieces, ...) stay apart."""
    frame = list_runs(runs_root)
    if frame.empty:
        return frame
    root = Path(runs_root)
    fields = pd.DataFrame([_config_fields(root / run_id) for run_id in frame["run_id"]])
    return pd.concat([frame.drop(columns=[c for c in fields if c in frame]), fields], axis=1)


def _config_fields(run_dir: Path) -> dict:
    try:
        config = read_json(run_dir / "config.json")["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    defaults = TrainConfig().to_dict()  # a run recorded before a field existed used its default
    fields = {k: config.get(k, defaults[k]) for k in SETTING_FIELDS + ("seed", "label")}
    fields["extra"] = json.dumps(fields.get("extra") or {}, sort_keys=True)  # hashable
    return fields


WEIGHT_FILES = ("best.keras", "model.keras")


def has_weights(run_dir: Path | str) -> bool:
    """Whether a run has saved weights (its first epoch ended): it can generate. Only a
    stat per file, so the Listen page can ask it of every run on each rerun."""
    return any((Path(run_dir) / name).is_file() for name in WEIGHT_FILES)
