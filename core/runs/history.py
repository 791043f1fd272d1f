"""history.csv: one row per finished epoch (training and held-out loss and accuracy, the
epoch's seconds and the elapsed time), appended and fsynced as each epoch ends, and the one
reader every page, table and report uses.
"""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from core.runs.files import RunFileError

HISTORY = "history.csv"


def append_history(run_dir: Path, row: dict[str, Any]) -> None:
    """One line per epoch, flushed to disk before the next epoch starts."""
    path = run_dir / HISTORY
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
        fh.flush()
        os.fsync(fh.fileno())


def read_history(run_dir: Path | str) -> pd.DataFrame:
    """A run's history.csv as a table (see `read_history_columns`); empty when no epoch
    has finished. Raises RunFileError for a file that is not a history."""
    return pd.DataFrame(read_history_columns(run_dir), copy=False)


def read_history_columns(run_dir: Path | str) -> dict[str, np.ndarray]:
    """The one parser of history.csv: {column: values}, rows in epoch order, every value a
    number (a blank one NaN, `epoch` whole numbers as integers); no rows when no epoch has
    finished.

    Raises RunFileError for a file that is not a history (no `epoch` column, text where a
    number belongs, more values than columns), so a caller can mark the run broken and
    carry on. The csv module and plain arrays rather than pandas' reader: a listing of 200
    runs reads 200 of these small files, and a table per file would cost more than the
    reading (read_history builds one for callers that want it).
    """
    path = Path(run_dir) / HISTORY
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header, rows = _parse(path, fh)
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
    columns = {name: values[:, i] for i, name in enumerate(header)}
    if np.isfinite(columns["epoch"]).all() and (columns["epoch"] % 1 == 0).all():
        columns["epoch"] = columns["epoch"].astype(np.int64)
    return columns


def _parse(path: Path, fh: TextIO) -> tuple[list[str] | None, list[list[float]]]:
    """(column names, rows of numbers), short rows padded with NaN; (None, []) when empty."""
    reader = csv.reader(fh)
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
