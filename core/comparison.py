"""What the Compare and Listen pages show, as plain functions of the files under runs/.

Every curve comes from a run's history.csv (one row per finished epoch, written by
core.training). Columns are `loss`, `accuracy` (Model 1) or `pitch_accuracy`,
`duration_accuracy`, `pitch_loss`, `duration_loss` (Model 2) on the training windows, the
same with a `val_` prefix on the held-out pieces, plus `seconds` (the epoch) and `elapsed`
(since training began). Here they become a long table, one row per run x epoch x metric x
split, which a plotting library can facet and colour directly; nothing is interpolated or
invented: a metric a run did not record is simply absent.

Also here: smoothing of those curves (exponential moving average or rolling mean), the
thesis's Tables 2 and 3 for any selection of runs (training *and* held-out), the numeric
hyperparameter table behind a parallel-coordinates view, and the music metrics of a
generated sample, measured on what the model generated (the seed window left out).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .encoding import parse_duration

TRAIN = "train"
HELD_OUT = "held-out"
SPLITS = (TRAIN, HELD_OUT)
TIME_COLUMNS = ("epoch", "seconds", "elapsed")
LONG_COLUMNS = ("run_id", "epoch", "elapsed", "metric", "split", "value")
# The numeric hyperparameters of Table 1 (plus learning rate) for parallel coordinates.
HYPERPARAMETERS = ("units", "layers", "dropout_layers", "window", "batch_size",
                   "learning_rate")
# Metric columns of the summary tables, by model: (history metric, column title).
TABLE_METRICS = {
    1: (("loss", "loss"), ("accuracy", "accuracy")),
    2: (("loss", "loss"), ("pitch_accuracy", "pitch acc"),
        ("duration_accuracy", "duration acc")),
}
SUMMARY_SETTINGS = ("label", "part", "cell", "layers", "units", "window", "batch_size")
SAMPLE_METRICS = ("pitch_range", "scale_consistency", "polyphony", "loop_share", "consonance")


class ComparisonError(ValueError):
    """A file that cannot be compared (unreadable history or sample)."""


# --------------------------------------------------------------------------- histories

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


def read_history(run_dir: Path | str) -> pd.DataFrame:
    """A run's history.csv with numeric columns; empty when no epoch has finished.

    Raises ComparisonError for a file that is not a history (no `epoch` column, text where
    numbers belong), so a caller can mark the run broken and carry on.
    """
    path = Path(run_dir) / "history.csv"
    if not path.exists():
        return pd.DataFrame(columns=["epoch"])
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=["epoch"])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ComparisonError(f"{path} is unreadable: {exc}") from exc
    if "epoch" not in frame.columns:
        raise ComparisonError(f"{path} has no epoch column")
    try:
        frame = frame.apply(pd.to_numeric, errors="raise")
    except (ValueError, TypeError) as exc:
        raise ComparisonError(f"{path} has a non-numeric value: {exc}") from exc
    return frame.sort_values("epoch", kind="stable").reset_index(drop=True)


def file_stamp(run_dir: Path | str, name: str = "history.csv") -> int:
    """Modification time (ns) of a run file, 0 when absent: a cache key that changes when an
    epoch is appended."""
    try:
        return os.stat(Path(run_dir) / name).st_mtime_ns
    except OSError:
        return 0


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
            histories[run_dir.name] = read_history(run_dir)
        except ComparisonError as exc:
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
    if method == "ema":
        out["value"] = groups.transform(lambda s: _ema(s.to_numpy(float), amount))
    else:
        out["value"] = groups.transform(lambda s: s.rolling(int(amount), min_periods=1).mean())
    return out.reset_index(drop=True)


def _ema(values: np.ndarray, weight: float) -> np.ndarray:
    smoothed = np.empty_like(values)
    acc, norm = 0.0, 0.0
    for i, v in enumerate(values):
        acc = weight * acc + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        smoothed[i] = acc / norm
    return smoothed


# --------------------------------------------------------------------------- tables

def summary_table(histories: Mapping[str, pd.DataFrame], settings: pd.DataFrame,
                  model: int, at: str = "final") -> pd.DataFrame:
    """The thesis's Table 2 (model 1: loss, accuracy) or Table 3 (model 2: loss, pitch
    accuracy, duration accuracy) for the given runs, on training AND held-out windows.

    `at` "final" reads the last finished epoch (as the thesis reports); "best" the epoch of
    lowest held-out loss (training loss when nothing was held out). One row per run of
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
        if at == "best":
            score = history["val_loss"] if "val_loss" in history and \
                history["val_loss"].notna().any() else history.get("loss")
            if score is not None and score.notna().any():
                row_index = int(np.nanargmin(score.to_numpy(float)))
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


def hyperparameter_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """The numeric settings of each run with a recorded loss, for parallel coordinates:
    run_id, HYPERPARAMETERS, cell as 0 (lstm) / 1 (gru), model, and `best loss`: the lowest
    held-out loss, or the lowest training loss for a run that held nothing out (see
    `loss_split`). Broken runs and runs with no finished epoch are left out."""
    columns = ["run_id", *HYPERPARAMETERS, "cell", "model", "best loss", "loss_split"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    frame = runs.copy()
    held = frame["best_val_loss"] if "best_val_loss" in frame else \
        pd.Series(math.nan, index=frame.index)
    train = frame["best_loss"] if "best_loss" in frame else \
        pd.Series(math.nan, index=frame.index)
    held, train = pd.to_numeric(held, errors="coerce"), pd.to_numeric(train, errors="coerce")
    frame["best loss"] = held.fillna(train)
    frame["loss_split"] = np.where(held.notna(), HELD_OUT, TRAIN)
    if "state" in frame:
        frame = frame[frame["state"] != "broken"]
    frame = frame[frame["best loss"].notna()].copy()
    frame["cell"] = frame["cell"].map({"lstm": 0, "gru": 1}) if "cell" in frame else math.nan
    for column in [*HYPERPARAMETERS, "model"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce") if column in frame \
            else math.nan
    return frame[columns].reset_index(drop=True)


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


# --------------------------------------------------------------------------- samples

def read_sample(folder: Path | str) -> dict[str, Any]:
    """A generated sample's sample.json plus `folder`; ComparisonError when unreadable."""
    folder = Path(folder)
    try:
        data = json.loads((folder / "sample.json").read_text())
    except (OSError, ValueError) as exc:
        raise ComparisonError(f"sample {folder.name} is unreadable: {exc}") from exc
    return {**data, "folder": str(folder)}


def sample_file(sample: Mapping[str, Any], kind: str) -> Path | None:
    """The path of one of a sample's files ('midi', 'musicxml', 'wav', 'svg', 'notes'),
    None when it was not written (e.g. no synthesiser for the WAV)."""
    name = (sample.get("files") or {}).get(kind)
    if not name:
        return None
    path = Path(sample["folder"]) / name
    return path if path.is_file() else None


def seed_symbol_count(symbols: Mapping[str, Sequence[str]], seed_quarters: float) -> int:
    """How many symbols of a part are its seed window, from the seed's length in quarters:
    Model 1 has one symbol per 16th; Model 2 as many events as fill the seed's quarters."""
    if "steps" in symbols:
        return int(round(seed_quarters / 0.25))
    total, count = 0.0, 0
    for d in symbols.get("duration", []):
        if total >= seed_quarters - 1e-9:
            break
        total += float(parse_duration(d))
        count += 1
    return count


def sample_notes(sample: Mapping[str, Any]) -> pd.DataFrame:
    """The sample's note table (notes CSV written by core.rendering) with part names in
    core.metrics' spelling ('lead', 'accompaniment')."""
    path = sample_file(sample, "notes")
    if path is None:
        raise ComparisonError(f"sample {Path(sample['folder']).name} has no note table")
    notes = pd.read_csv(path)
    if notes.empty:
        notes = pd.DataFrame({"part": pd.Series(dtype=object), "start": pd.Series(dtype=float),
                              "end": pd.Series(dtype=float), "pitch": pd.Series(dtype=int),
                              "name": pd.Series(dtype=object)})
    notes["part"] = notes["part"].astype(str).str.lower()
    return notes


def sample_metrics(sample: Mapping[str, Any], generated_only: bool = True,
                   names: Sequence[str] = SAMPLE_METRICS) -> dict[str, float]:
    """A few core.metrics.piece_metrics of a sample: note metrics over every part, loop
    share on the lead's symbols (the accompaniment's when there is no lead: Model 1 steps,
    Model 2 pitches).

    With `generated_only` each part's seed window is left out: its seed symbols, and its
    notes up to its seed's end (a note held over from the seed counts for the time it
    sounds after it; times are not shifted, so the parts stay aligned). The numbers then
    judge the model, not the piece it was seeded with; all NaN when nothing was generated.
    """
    from .metrics import piece_metrics

    notes = sample_notes(sample)
    symbols_by_part = sample.get("symbols") or {}
    seed_quarters = sample.get("seed_quarters") or {}
    part = "lead" if "lead" in symbols_by_part else next(iter(symbols_by_part), None)
    symbols = None
    if part is not None:
        streams = symbols_by_part[part]
        symbols = streams.get("steps") or streams.get("pitch") or []
        if generated_only:
            symbols = symbols[seed_symbol_count(streams, seed_quarters.get(part, 0.0)):]
    if generated_only:
        notes = generated_notes(notes, seed_quarters)
    metrics = piece_metrics(notes[["part", "start", "end", "pitch"]].reset_index(drop=True),
                            symbols=symbols)
    return {k: metrics.get(k, math.nan) for k in names}


def generated_notes(notes: pd.DataFrame, seed_quarters: Mapping[str, float]) -> pd.DataFrame:
    """The notes each part sounds after its own seed window ends (notes cut at that point)."""
    seed_end = notes["part"].map(lambda p: float(seed_quarters.get(p, 0.0))).astype(float)
    kept = notes[notes["end"] > seed_end + 1e-9].copy()
    kept["start"] = np.maximum(kept["start"].to_numpy(float), seed_end[kept.index].to_numpy())
    return kept.reset_index(drop=True)


def generated_quarters(sample: Mapping[str, Any]) -> dict[str, float]:
    """Per part, how long (quarters) the piece goes on after that part's seed window: 0 when
    the seed fills the whole piece (generate() cuts both parts to the shorter one)."""
    notes = sample_notes(sample)
    end = float(notes["end"].max()) if len(notes) else 0.0
    return {part: max(0.0, end - float(q))
            for part, q in (sample.get("seed_quarters") or {}).items()}


def decoding_label(sample: Mapping[str, Any]) -> str:
    """'temperature t=0.65' style name of a sample's decoding."""
    d = sample.get("decoding") or {}
    strategy = d.get("strategy", "?")
    formats = {"temperature": " t={temperature:g}", "top_k": " k={top_k} t={temperature:g}",
               "top_p": " p={top_p:g} t={temperature:g}", "beam": " width={beam_width}"}
    try:
        detail = formats.get(strategy, "").format(**d)
    except (KeyError, TypeError, ValueError):
        detail = ""
    return f"{strategy}{detail}"
