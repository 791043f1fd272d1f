"""Deleting what the dashboard made: a run (cancelled first when it is training), one
generated sample, or an uploaded corpus.

Deleting is the one thing here that cannot be undone, so every path is checked before
anything is removed: it must be exactly where such a thing lives (runs/<run>,
runs/<run>/samples/<sample>, uploads/<folder>) once resolved, a real folder and not a link,
so no name, link or '..' can make it remove anything outside the runs and uploads folders.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from core.files import RunError
from core.runs.record import CONFIG
from core.runs.samples import SAMPLE, SAMPLES
from core.runs.status import STATES, cancel, wait_for

STOP_TIMEOUT_S = 60.0   # how long a training run is given to stop before deleting it


class DeletionError(RunError):
    """Something that must not or cannot be deleted; the message says which and why."""


def _inside(root: Path | str, path: Path | str, depth: int, what: str) -> Path:
    """`path` as a real folder exactly `depth` levels under `root` (after resolving links
    and '..'); DeletionError otherwise."""
    root, path = Path(root).resolve(), Path(path)
    if path.is_symlink() or not path.is_dir():
        raise DeletionError(f"{path.name} is not a {what} folder (missing, or a link)")
    resolved = path.resolve()
    if len(resolved.parents) < depth or resolved.parents[depth - 1] != root:
        raise DeletionError(f"{path.name} is not a {what} under {root}; nothing was deleted")
    return resolved


def _stop(run_dir: Path, timeout: float) -> None:
    """Cancel a queued run at once; ask a running one to stop and wait until it has."""
    if cancel(run_dir) != "running":
        return
    try:
        wait_for(run_dir, tuple(s for s in STATES if s != "running"), timeout, poll=0.25)
    except TimeoutError:
        raise DeletionError(f"run {run_dir.name} was asked to stop but is still training "
                            f"after {timeout:g} s; try again once it has stopped") from None


def delete_run(run_dir: Path | str, runs_root: Path | str,
               timeout: float = STOP_TIMEOUT_S) -> None:
    """Remove one run directory with everything in it (history, models, samples,
    evaluations); a queued or running run is cancelled first."""
    run_dir = _inside(runs_root, run_dir, 1, "run")
    if run_dir.name.startswith(".") or not (run_dir / CONFIG).is_file():
        raise DeletionError(f"{run_dir.name} is not a run (no {CONFIG}); nothing was deleted")
    _stop(run_dir, timeout)
    shutil.rmtree(run_dir)


def delete_sample(sample_dir: Path | str, runs_root: Path | str) -> None:
    """Remove one generated sample (runs/<run>/samples/<sample>)."""
    sample_dir = _inside(runs_root, sample_dir, 3, "sample")
    if sample_dir.parent.name != SAMPLES or not (sample_dir / SAMPLE).is_file():
        raise DeletionError(f"{sample_dir.name} is not a sample (no {SAMPLE}); nothing was "
                            "deleted")
    shutil.rmtree(sample_dir)


def delete_upload(folder: Path | str, uploads_root: Path | str) -> None:
    """Remove one uploaded corpus folder (uploads/<folder>) with its files. Runs trained on
    it keep their records but can no longer prepare their corpus."""
    folder = _inside(uploads_root, folder, 1, "upload")
    if folder.name.startswith("."):
        raise DeletionError(f"{folder.name} is not an uploaded corpus; nothing was deleted")
    shutil.rmtree(folder)
