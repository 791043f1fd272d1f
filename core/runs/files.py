"""Small file helpers every run file goes through: write-then-rename JSON (readers never see
half a file), UTC timestamps, modification stamps used as cache keys, and the two errors a
run's files can raise.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


class RunError(RuntimeError):
    """A run directory that cannot be used for what was asked (files missing or broken)."""


class RunFileError(RunError, ValueError):
    """One of a run's files exists but cannot be read (a history.csv that is not a history, a
    sample.json that is not JSON). Also a ValueError: what is wrong is the file's content, so
    a caller that catches bad values keeps catching it."""


def file_stamp(run_dir: Path | str, name: str = "history.csv") -> int:
    """Modification time (ns) of a run file, 0 when absent: a cache key that changes when an
    epoch is appended."""
    try:
        return os.stat(Path(run_dir) / name).st_mtime_ns
    except OSError:
        return 0


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, data: Any) -> None:
    """Write-then-rename so readers (the dashboard) never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
