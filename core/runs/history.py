"""history.csv: one row per finished epoch (training and held-out loss and accuracy, the
epoch's seconds and the elapsed time), appended and fsynced as each epoch ends.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pandas as pd

class ComparisonError(ValueError):
    """A file that cannot be compared (unreadable history or sample)."""


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


def append_history(run_dir: Path, row: dict[str, Any]) -> None:
    """One line per epoch, flushed to disk before the next epoch starts."""
    path = run_dir / "history.csv"
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
        fh.flush()
        os.fsync(fh.fileno())


def read_history_rows(run_dir: Path) -> list[dict[str, float]]:
    path = run_dir / "history.csv"
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return [{k: float(v) if v not in ("", None) else float("nan") for k, v in r.items()}
                for r in csv.DictReader(fh)]
