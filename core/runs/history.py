"""history.csv: one row per finished epoch (training and held-out loss and accuracy, the
epoch's seconds and the elapsed time), appended whole and fsynced as each epoch ends, and
the one reader every page, table and report uses.

A row is complete when its line ends: the reader ignores a last line a crash cut short
(with a note), so a half-written "2,...,1.09,0" never counts as an epoch with loss 0.
"""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from core.files import RunFileError, atomic_path, saving

HISTORY = "history.csv"
PARTIAL_NOTE = "the last line of history.csv was cut short (a crash while it was written) " \
               "and is ignored"


# What "best" means for a run, everywhere (best.keras, the epoch generation uses, a sweep's
# best trial, Tables 2/3 at their best epoch, the hyperparameter view): the held-out loss, or
# the training loss of a run that held nothing out (it has no val_loss column).
SCORE_COLUMNS = ("val_loss", "loss")


class HistoryColumns(dict):
    """{column: values} of history.csv, with `note` saying what the reader left out."""

    note: str = ""


def append_history(run_dir: Path, row: dict[str, Any]) -> None:
    """Append one epoch's row whole: one write of the complete line, flushed and fsynced
    before the next epoch starts. A failed write (a full disk) is cut off again, so the
    file never keeps half a row; a line an earlier crash cut short is dropped first."""
    path = run_dir / HISTORY
    with saving(f"{HISTORY} of run {run_dir.name}"):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = _whole_lines_size(fd)
            header = _header(path) if size else list(row)
            text = _csv_lines(([] if size else [header]) + [[row.get(k, "") for k in header]])
            try:
                os.write(fd, text.encode())
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)


def _whole_lines_size(fd: int) -> int:
    """The file's size after cutting off a last line that has no end (a crash's leftover)."""
    size = os.fstat(fd).st_size
    if not size or os.pread(fd, 1, size - 1) == b"\n":
        return size
    data = os.pread(fd, size, 0)
    size = data.rfind(b"\n") + 1
    os.ftruncate(fd, size)
    return size


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def _csv_lines(rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def keep_epochs(run_dir: Path, epochs: int) -> None:
    """Rewrite history.csv (atomically) with its first `epochs` whole rows only: a resumed
    run starts from its last checkpoint, so each epoch is in the file once."""
    path = run_dir / HISTORY
    columns = read_history_columns(run_dir)
    if not path.exists():
        return
    header = list(columns)
    rows = [[_cell(columns[c][i]) for c in header] for i in range(len(columns["epoch"]))
            if columns["epoch"][i] <= epochs]
    with atomic_path(path, f"{HISTORY} of run {run_dir.name}") as temp:
        temp.write_text(_csv_lines([header, *rows]), encoding="utf-8")


def _cell(value: float) -> Any:
    """A value as the file had it: whole numbers of the epoch column stay whole, NaN blank."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return "" if math.isnan(value) else repr(float(value))


def read_history(run_dir: Path | str) -> pd.DataFrame:
    """A run's history.csv as a table (see `read_history_columns`); empty when no epoch
    has finished; `attrs["note"]` says what was left out. Raises RunFileError for a file
    that is not a history."""
    return history_frame(read_history_columns(run_dir))


def history_frame(columns: HistoryColumns) -> pd.DataFrame:
    """History columns as a table; `attrs["note"]` says what the reader left out."""
    frame = pd.DataFrame(columns, copy=False)
    frame.attrs["note"] = columns.note
    return frame


def read_history_columns(run_dir: Path | str) -> HistoryColumns:
    """The one parser of history.csv: {column: values}, rows in epoch order, every value a
    number (a blank one NaN, `epoch` whole numbers as integers); no rows when no epoch has
    finished. A last line without its end (a crash cut it, header or row) is left out and
    `note` says so.

    Raises RunFileError for a file that is not a history (no `epoch` column, text where a
    number belongs, more values than columns), so a caller can mark the run broken and
    carry on. The csv module and plain arrays rather than pandas' reader: a listing of 200
    runs reads 200 of these small files, and a table per file would cost more than the
    reading (read_history builds one for callers that want it).
    """
    path = Path(run_dir) / HISTORY
    note = ""
    try:
        text = path.read_bytes().decode("utf-8")
        if text and not text.endswith("\n"):
            text, note = text[:text.rfind("\n") + 1], PARTIAL_NOTE
        header, rows = _parse(path, csv.reader(io.StringIO(text, newline="")))
    except FileNotFoundError:
        header, rows = None, []
    except UnicodeDecodeError as exc:
        raise RunFileError(f"{path} is not a text file") from exc
    except csv.Error as exc:
        raise RunFileError(f"{path} is not a CSV table ({exc})") from exc
    except OSError as exc:
        raise RunFileError(f"{path} cannot be read: {exc.strerror}") from exc
    header = header or ["epoch"]
    values = np.asarray(rows, dtype=float).reshape(len(rows), len(header))
    values = values[np.argsort(values[:, header.index("epoch")], kind="stable")]  # NaN last
    columns = HistoryColumns((name, values[:, i]) for i, name in enumerate(header))
    if np.isfinite(columns["epoch"]).all() and (columns["epoch"] % 1 == 0).all():
        columns["epoch"] = columns["epoch"].astype(np.int64)
    columns.note = note
    return columns


def _parse(path: Path, reader) -> tuple[list[str] | None, list[list[float]]]:
    """(column names, rows of numbers), short rows padded with NaN; (None, []) when empty."""
    header = next((row for row in reader if row), None)
    if header is None:
        return None, []
    if "epoch" not in header:
        raise RunFileError(f"{path} has no epoch column")
    rows = []
    for row in reader:
        if not row:
            continue
        if len(row) > len(header):
            raise RunFileError(f"{path}, line {reader.line_num}: {len(row)} values under "
                               f"{len(header)} column names")
        try:
            numbers = [float(v) for v in row]
        except ValueError:  # a blank value, or text where a number belongs
            numbers = [_number(path, reader.line_num, header[i], v) for i, v in enumerate(row)]
        rows.append(numbers + [math.nan] * (len(header) - len(row)))
    return header, rows


def _number(path: Path, line: int, column: str, text: str) -> float:
    if not text.strip():
        return math.nan
    try:
        return float(text)
    except ValueError:
        shown = "".join(c for c in text[:20] if c.isprintable())
        raise RunFileError(f"{path}, line {line}: the {column} column holds '{shown}', "
                           "not a number") from None


def epoch_score(row: Mapping[str, Any]) -> float:
    """One epoch's score: the first of SCORE_COLUMNS its row has; a missing loss (NaN, a
    diverged epoch) is never the best (inf)."""
    value = next((row[c] for c in SCORE_COLUMNS if c in row), math.nan)
    return math.inf if value is None or math.isnan(value) else float(value)


def epoch_scores(history: Mapping[str, Any]) -> np.ndarray:
    """`epoch_score` of every epoch of a history (its columns, or a table of it)."""
    column = next((c for c in SCORE_COLUMNS if c in history), None)
    values = np.full(len(history["epoch"]), np.nan) if column is None else \
        np.asarray(history[column], float)
    return np.where(np.isnan(values), np.inf, values)


def best_score(history: Mapping[str, Any]) -> float:
    """The run's best `epoch_score` so far; inf before its first scored epoch."""
    scores = epoch_scores(history)
    return float(scores.min()) if len(scores) else math.inf


RISING_EPOCHS = 3  # epochs in a row a loss must rise before a run is said to get worse


def rising_note(history: dict[str, np.ndarray]) -> str:
    """'held-out loss rising for 3 epochs (since epoch 5)' when a run's last RISING_EPOCHS
    epochs each ended with a higher loss (held-out, else training) than the one before: a
    learning rate too high, or a network past its best (best.keras keeps that epoch)."""
    name = "val_loss" if "val_loss" in history else "loss"
    values = np.asarray(history.get(name, []), float)
    tail = values[-RISING_EPOCHS - 1:]
    if len(tail) <= RISING_EPOCHS or not (np.diff(tail) > 0).all():
        return ""
    rises = RISING_EPOCHS
    while rises < len(values) - 1 and values[-rises - 1] > values[-rises - 2]:
        rises += 1
    where = "held-out" if name == "val_loss" else "training"
    return (f"{where} loss rising for {rises} epochs (since epoch {len(values) - rises}): "
            "lower the learning rate, or keep the best epoch, which generation uses")
