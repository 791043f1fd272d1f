"""Checkpoints: an epoch's model, best model and history row committed together, and the
point a run resumes from after a kill, a crash or a full disk.

At the end of epoch k, in this order:
  1. the model (weights and optimizer state) is saved whole to a pending file .epoch-k.keras
     and fsynced;
  2. the history row of epoch k is appended whole and fsynced: epoch k is now complete;
  3. the pending file is renamed to model.keras, and best.keras replaced by a copy of it
     when epoch k has the lowest loss so far.
A crash before 2 leaves epoch k-1 complete (resume deletes the pending file); a crash after
2 leaves the pending file, which resume renames into place (rolls forward). So model.keras,
best.keras and history.csv always agree on the last complete epoch, and no file is ever
seen half written.

Generation reads the same order (`best_model`): the best epoch is the one history.csv
says, and when that is the last complete epoch its model is taken from where that epoch
left it (the pending file, before its rename; model.keras after it, whose best.keras copy
a kill may have prevented), never from an earlier epoch's file.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from core.faults import pause_point
from core.files import (
    RunError,
    RunFileError,
    commit,
    copy_file,
    fsync_path,
    remove_temp_files,
    saving,
)
from core.runs.history import (
    append_history,
    epoch_score,
    epoch_scores,
    keep_epochs,
    read_history_columns,
)
from core.runs.record import BEST, MODEL, Run

READ_TRIES = 3  # a trainer may commit an epoch while generation reads: read again

log = logging.getLogger(__name__)  # notes (a pending model used); the CLI prints them


def pending_path(run_dir: Path, epoch: int) -> Path:
    """Where epoch `epoch`'s model waits for its history row (step 1 above)."""
    return run_dir / f".epoch-{epoch}.keras"


def save_epoch(run_dir: Path, model, row: dict[str, Any], best: float) -> float:
    """Commit epoch row["epoch"] (model, history row, best model) in the order the module
    docstring gives; returns the best score so far."""
    epoch = int(row["epoch"])
    pending = pending_path(run_dir, epoch)
    try:
        with saving(f"{MODEL} of run {run_dir.name}"):
            model.save(pending)
            fsync_path(pending)
        pause_point("model", epoch)
        append_history(run_dir, row)
    except BaseException:  # the epoch is not complete: its model is not kept
        pending.unlink(missing_ok=True)
        raise
    pause_point("row", epoch)
    with saving(f"{MODEL} of run {run_dir.name}"):
        commit(pending, run_dir / MODEL)  # if this fails, resume rolls it forward
    if epoch_score(row) < best:
        pause_point("best", epoch)
        copy_file(run_dir / MODEL, run_dir / BEST, f"{BEST} of run {run_dir.name}")
        return epoch_score(row)
    return best


def complete_epochs(run_dir: Path) -> int:
    """How many epochs history.csv holds whole, checked to be 1, 2, ..., k."""
    epochs = read_history_columns(run_dir)["epoch"]
    if not np.array_equal(epochs, np.arange(1, len(epochs) + 1)):
        raise RunFileError(f"run {run_dir.name}: history.csv holds epochs "
                           f"{', '.join(map(str, epochs))}, not 1 to {len(epochs)}")
    return len(epochs)


def restore(run_dir: Path, steps_per_epoch: int | None = None):
    """Bring a run's files back to its last complete epoch and load that epoch's model.

    Rolls a committed pending model forward, deletes half-written files, cuts history.csv
    to its whole rows, and remakes best.keras when the last epoch is the best. Returns
    (epochs done, the model with its optimizer state, or None when no epoch is done,
    the best score so far). A model.keras that cannot be loaded, or that holds another
    number of training steps than the history's epochs, is a RunFileError: resuming from
    it would train a different run."""
    done = complete_epochs(run_dir)
    pending = pending_path(run_dir, done)
    if done and pending.exists():
        with saving(f"{MODEL} of run {run_dir.name}"):
            commit(pending, run_dir / MODEL)
    for path in run_dir.glob(".epoch-*.keras"):
        path.unlink()
    remove_temp_files(run_dir)
    keep_epochs(run_dir, done)
    scores = epoch_scores(read_history_columns(run_dir))
    if not done:
        return 0, None, math.inf
    if int(np.argmin(scores)) == done - 1:
        copy_file(run_dir / MODEL, run_dir / BEST, f"{BEST} of run {run_dir.name}")
    try:
        model = Run(run_dir).load_model("latest")
    except Exception as exc:
        raise RunFileError(f"run {run_dir.name} cannot resume: its {MODEL} of epoch {done} "
                           f"cannot be loaded ({str(exc).splitlines()[0][:160]})") from exc
    steps = int(model.optimizer.iterations)
    if steps_per_epoch and steps != done * steps_per_epoch:
        raise RunFileError(f"run {run_dir.name} cannot resume: its {MODEL} has trained "
                           f"{steps} steps, not the {done} epoch(s) of {steps_per_epoch} "
                           "its history.csv records")
    return done, model, float(min(scores))


def best_model(run: Run) -> tuple[Any, int]:
    """The model of the run's best committed epoch (lowest epoch_score in history.csv) and that
    epoch. The last epoch's model is read from where the commit order left it (see the
    module docstring); an earlier best from best.keras, or, when best.keras cannot be
    loaded, from the last epoch's model with a note saying so."""
    for _ in range(READ_TRIES):
        done, best = _committed(run.path)
        pending = pending_path(run.path, done)
        latest = (pending.name, MODEL) if pending.exists() else (MODEL,)
        model, name = run.load_model_file(*((BEST, *latest) if best < done else latest))
        if _committed(run.path)[0] != done:  # the trainer committed an epoch meanwhile
            continue
        if name == pending.name:
            log.warning("run %s: epoch %d's model was saved but not yet renamed into place "
                        "(the run stopped in between); generating from it", run.run_id, done)
        return model, best if name == BEST else done
    raise RunFileError(f"run {run.run_id} kept committing epochs while its model was read")


def _committed(run_dir: Path) -> tuple[int, int]:
    """(complete epochs, the best of them) by history.csv; no epoch is a RunError."""
    scores = epoch_scores(read_history_columns(run_dir))
    if not len(scores):
        raise RunError(f"run {run_dir.name} has no finished epoch to generate from")
    return len(scores), int(np.argmin(scores)) + 1
