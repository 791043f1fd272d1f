"""A run's state: status.json, its states and the sets of them every reader asks about, the
compare-and-set that changes it under the run's lock, and cancelling.

    queued -> running -> finished | failed | cancelled | killed     (broken: unreadable)

The state changes only through `change_state`, under the run's lock, and only from the
states the change allows: the finished states are final for the queue and the trainer
(a cancel is never overwritten by "running"), and only an explicit resume leaves them. A
run "running" whose process is gone is rewritten "killed" by the first reader.
"""
from __future__ import annotations

import fcntl
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from core.files import RunError, now_iso, read_json, write_json
from core.processes import recorded, recorded_alive

STATUS = "status.json"
CANCEL_FILE = "cancel"
LOCK_FILE = ".lock"
STATES = ("queued", "running", "finished", "failed", "cancelled", "killed", "broken")
ACTIVE = ("queued", "running")                          # the queue's: waiting or training
FINAL = ("finished", "failed", "cancelled", "killed")   # the trainer and queue stop here
RESUMABLE = ("failed", "killed", "cancelled")           # what `resume` may continue
USABLE = ("finished", "running", "cancelled", "killed")  # may hold weights to generate from
KILLED = "the training process ended without a final status (killed, or out of memory)"
NOT_STARTED = "cancelled before it started"

log = logging.getLogger(__name__)  # notes (a status that could not be rewritten)


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock: a status change reads, decides and writes, and the worker, its
    training child and a page's Cancel must not interleave those steps."""
    fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def trainer_alive(status: dict[str, Any]) -> bool:
    """Whether the process a "running" status names still runs (on another host: assumed)."""
    return recorded_alive(status)


def _load_status(run_dir: Path) -> dict[str, Any]:
    """status.json as written; a missing or unreadable one reads "broken" with the reason."""
    path = run_dir / STATUS
    if not path.exists():
        return {"state": "broken", "error": f"{STATUS} is missing"}
    try:
        status = read_json(path)
    except (OSError, ValueError) as exc:
        return {"state": "broken", "error": f"{STATUS} is unreadable: {exc}"}
    if not isinstance(status, dict):
        return {"state": "broken", "error": f"{STATUS} holds no status"}
    return status


def _current_status(run_dir: Path) -> dict[str, Any]:
    """The status with the run's lock held: a "running" one whose process is gone is
    rewritten "killed" on disk (best effort: a full disk still reads "killed")."""
    status = _load_status(run_dir)
    if status.get("state") == "running" and not trainer_alive(status):
        status.update(state="killed", error=KILLED, finished=now_iso(), updated=now_iso())
        try:
            write_json(run_dir / STATUS, status, f"{STATUS} of run {run_dir.name}")
        except RunError as exc:
            log.warning("run %s: %s", run_dir.name, exc)
    return status


def read_status(run_dir: Path) -> dict[str, Any]:
    """status.json; a run whose process died while running is "killed" (and rewritten so
    on disk), one whose status.json is missing or unreadable "broken" (with the reason)."""
    status = _load_status(run_dir)
    if status.get("state") != "running" or trainer_alive(status):
        return status
    try:
        with run_lock(run_dir):
            return _current_status(run_dir)
    except OSError:  # a read-only folder: report, do not repair
        return {**status, "state": "killed", "error": KILLED}


def change_state(run_dir: Path, state: str, allowed: tuple[str, ...],
                 **fields: Any) -> dict[str, Any] | None:
    """Compare-and-set: move the run to `state` (merging `fields`) only if its current
    state is one of `allowed`; the new status, or None when it was not (nothing written).
    "running" records this process (pid, host, identity) as the trainer."""
    with run_lock(run_dir):
        status = _current_status(run_dir)
        if status.get("state") not in allowed:
            return None
        status.update(fields, state=state, updated=now_iso())
        if state == "running":
            status.update(recorded())
        write_json(run_dir / STATUS, status, f"{STATUS} of run {run_dir.name}")
        return status


def write_status(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Merge progress fields (epoch, batch, loss, ...) into status.json, never the state:
    that changes only through `change_state`."""
    if "state" in fields:
        raise ValueError("the state changes through change_state, not write_status")
    with run_lock(run_dir):
        status = _load_status(run_dir)
        status.update(fields, updated=now_iso())
        write_json(run_dir / STATUS, status, f"{STATUS} of run {run_dir.name}")
        return status


def request_cancel(run_dir: Path) -> None:
    """Ask a running (or queued) run to stop after its current batch; history is kept."""
    (run_dir / CANCEL_FILE).touch()


def cancel_requested(run_dir: Path) -> bool:
    return (run_dir / CANCEL_FILE).exists()


def cancel(run_dir: Path) -> str | None:
    """A queued run is cancelled at once (it will never start); a running one is asked to
    stop after its current batch and ends "cancelled". Returns the state it was in."""
    if change_state(run_dir, "cancelled", ("queued",), error=NOT_STARTED):
        return "queued"
    state = read_status(run_dir).get("state")
    if state == "running":
        request_cancel(run_dir)
    return state


def wait_for(run_dir: Path, states: tuple[str, ...] = FINAL, timeout: float = 600,
             poll: float = 0.5) -> dict:
    """Block until a run reaches one of `states` (the CLI, deleting a running run, tests);
    TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(run_dir)
        if status.get("state") in states:
            return status
        time.sleep(poll)
    raise TimeoutError(f"run {run_dir.name} still {read_status(run_dir).get('state')}")
