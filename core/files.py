"""Small file helpers every file the project writes goes through (runs, samples, the corpus
cache, sweeps, reports): atomic writes (a temporary file in the same folder, flushed and
fsynced, then renamed into place, so a crash at any instant leaves the previous complete
version and never half a file), timestamps, modification stamps used as cache keys, and the
errors a run's files can raise.

Two clocks, each for one purpose: a record's times ("created", "updated") are UTC with
their offset (`now_iso`), unambiguous wherever they are read; a folder's id starts with the
local time (`folder_stamp`), as the person who made it reads a clock. Every folder the
project names by time (runs, samples, evaluations, sweeps, uploads, reports, listening
pairs) takes its stamp from `folder_stamp`.

A write that fails removes its temporary file and raises `WriteError`; a full disk reads
"no space left on the device while saving <what>", whichever library hit it.
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from core.processes import pid_running

TEMP_PREFIX = ".tmp-"  # hidden, so no listing ever shows a file being written
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class RunError(RuntimeError):
    """A run directory that cannot be used for what was asked (files missing or broken)."""


class RunFileError(RunError, ValueError):
    """One of a run's files exists but cannot be read (a history.csv that is not a history, a
    sample.json that is not JSON). Also a ValueError: what is wrong is the file's content, so
    a caller that catches bad values keeps catching it."""


class WriteError(RunError):
    """A file could not be saved (the disk is full, the folder read-only, ...); the message
    names the file and the reason, `full` says whether the disk was full."""

    def __init__(self, message: str, full: bool = False) -> None:
        super().__init__(message)
        self.full = full


def file_stamp(run_dir: Path | str, name: str = "history.csv") -> int:
    """Modification time (ns) of a run file, 0 when absent: a cache key that changes when an
    epoch is appended."""
    try:
        return os.stat(Path(run_dir) / name).st_mtime_ns
    except OSError:
        return 0


def now_iso() -> str:
    """Now, UTC, to the second, for a record's times."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def folder_stamp(fine: bool = False) -> str:
    """Now, local time, as a folder id starts: '20260101-093000'; `fine` adds microseconds
    for folders that one process may make several of in a second (samples, evaluations)."""
    return datetime.now().strftime("%Y%m%d-%H%M%S" + ("-%f" if fine else ""))


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or an exception it was raised from) says the disk is full: Keras, h5py
    and zipfile wrap the OSError in their own types, some keeping only its text."""
    seen: BaseException | None = exc
    while seen is not None:
        if (getattr(seen, "full", False) or getattr(seen, "errno", None) in DISK_FULL
                or "No space left" in str(seen)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def write_error(exc: BaseException, what: str) -> WriteError:
    """The one message for a failed save of `what` ("model.keras of run X")."""
    if disk_full(exc):
        return WriteError(f"no space left on the device while saving {what}", full=True)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return WriteError(f"could not save {what}: {reason}")


@contextmanager
def saving(what: str) -> Iterator[None]:
    """Turn a failed write inside (an OSError, or any error that a full disk caused) into
    one WriteError naming `what`; other errors pass unchanged."""
    try:
        yield
    except WriteError:
        raise
    except Exception as exc:
        if isinstance(exc, OSError) or disk_full(exc):
            raise write_error(exc, what) from exc
        raise


def describe(path: Path) -> str:
    """How a saved file is named in messages when the caller gives no better name."""
    return f"{path.name} in {path.parent}"


def temp_path(path: Path) -> Path:
    """A fresh hidden name beside `path` with the same suffix (Keras wants '.keras')."""
    return path.with_name(f"{TEMP_PREFIX}{path.stem}-{os.getpid()}-{secrets.token_hex(3)}"
                          f"{path.suffix}")


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's) contents to the disk: a rename is only durable once
    the data it points at and the folder entry are."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(temp: Path, path: Path) -> None:
    """Make a complete temporary file `path`: fsync it, rename it over `path` (atomic on
    POSIX), fsync the folder."""
    fsync_path(temp)
    os.replace(temp, path)
    fsync_path(path.parent)


@contextmanager
def atomic_path(path: Path, what: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write to; on success it becomes `path`
    atomically, on any failure it is removed and `path` keeps its previous version.
    Failures are raised as WriteError naming `what` (default: the file and its folder)."""
    path = Path(path)
    temp = temp_path(path)
    try:
        with saving(what or describe(path)):
            yield temp
            commit(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes, what: str | None = None) -> None:
    """Atomically replace `path` with `data`."""
    with atomic_path(path, what) as temp:
        temp.write_bytes(data)


def write_json(path: Path, data: Any, what: str | None = None) -> None:
    """Atomically replace `path` with `data` as JSON: readers (the dashboard) never see
    half a file, and a crash leaves the previous version."""
    write_bytes(path, json.dumps(data, indent=2, default=str).encode(), what)


def copy_file(source: Path, path: Path, what: str | None = None) -> None:
    """Atomically replace `path` with a copy of `source`."""
    with atomic_path(path, what) as temp:
        shutil.copyfile(source, temp)


def remove_temp_files(folder: Path) -> None:
    """Delete what writes killed halfway left behind in `folder` (never a finished file)."""
    for temp in Path(folder).glob(f"{TEMP_PREFIX}*"):
        if temp.is_dir():
            shutil.rmtree(temp, ignore_errors=True)
        else:
            temp.unlink(missing_ok=True)


def remove_orphan_temp_files(folder: Path) -> None:
    """Delete the temporary files of writers that were killed (their process is gone) in a
    folder that several processes may write at once (the corpus cache); a live writer's
    file is left alone."""
    for temp in Path(folder).glob(f"{TEMP_PREFIX}*"):
        pid = temp.stem.rsplit("-", 2)[-2] if temp.stem.count("-") >= 2 else ""
        if pid.isdigit() and not pid_running(int(pid)):
            temp.unlink(missing_ok=True)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
